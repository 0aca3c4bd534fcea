"""Chapter 01's exercise checks (the three exercises at the end of 01_cnn): call one on your answer.

``check_conv_output_size`` (exercise 1, the formula of §3) compares with what ``F.conv2d`` produces;
``check_strided_cnn`` (exercise 2) wants stride-2 convolutions that take 28 → 14 → 7 → 3 without pooling;
``check_residual_block`` (exercise 3, the block of §7) probes ``relu(x + F(x))`` with F fixed to constants.
Each compares with the truth first and then names the mistake when it recognises one. ``checks.exercise``
turns a missing answer, ``NotImplementedError`` or any error raised while checking into a printed hint.
"""

from __future__ import annotations

import itertools

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from ..checks import exercise, report
from ..train import eval_mode

OUTPUT_SIZE, STRIDED, RESIDUAL = "conv output size", "stride instead of pooling", "residual block"


def _torch_size(h, k, s=1, p=0, d=1) -> int:
    return F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]


@exercise(OUTPUT_SIZE)
def check_conv_output_size(fn) -> bool:
    """Exercise 01.1: ``fn(h, k, s=1, p=0, d=1)`` must give the conv output size PyTorch produces."""
    if not callable(fn):
        return report(OUTPUT_SIZE, False, f"expected a function conv_output_size(h, k, s=1, p=0, d=1), got {type(fn).__name__}.")
    cases = [c for c in itertools.product([5, 7, 8, 28, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
             if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1]
    for h, k, s, p, d in cases:
        truth, got = _torch_size(h, k, s, p, d), fn(h, k, s, p, d)
        where = f"for h={h}, k={k}, s={s}, p={p}, d={d}"
        if isinstance(got, float):
            return report(OUTPUT_SIZE, False, f"{where} yours returned {got!r}, a float; remember the floor: use // on integers.")
        if isinstance(got, bool) or not isinstance(got, int | np.integer):
            return report(OUTPUT_SIZE, False, f"{where} yours returned {type(got).__name__} {got!r}; return an int.")
        if got != truth:
            if d > 1 and fn(h, k, s, p, 1) == _torch_size(h, k, s, p):
                hint = "dilation stretches the kernel to d*(k-1)+1 pixels."
            elif p > 0 and fn(h, k, s, 0, d) == _torch_size(h, k, s, 0, d):
                hint = "padding adds p pixels on *both* sides."
            else:
                hint = "the first window covers d*(k-1)+1 pixels and each further one needs s more: count the windows that fit."
            return report(OUTPUT_SIZE, False, f"{where} PyTorch gives {truth}, yours {got}; {hint}")
    return report(OUTPUT_SIZE, True, f"matches F.conv2d on {len(cases)} combinations of size, kernel, stride, padding, dilation.")


@exercise(STRIDED)
def check_strided_cnn(model: nn.Module, pooled: nn.Module | None = None) -> bool:
    """Exercise 01.2: a CNN that goes 28 → 14 → 7 → 3 with stride-2 convolutions instead of pooling layers."""
    if not isinstance(model, nn.Module):
        return report(STRIDED, False, f"expected the model itself (an nn.Module such as nn.Sequential(...)), got {type(model).__name__}.")
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d | nn.AvgPool2d | nn.LPPool2d)]
    if pools:
        return report(STRIDED, False, f"the model still has {len(pools)} pooling layer(s); replace each by stride=2 in the conv before it.")
    strided = [m for m in model.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if len(strided) < 3:
        return report(STRIDED, False, f"only {len(strided)} conv layer(s) have stride 2; the pooled model halves the size three times.")
    sizes = []  # spatial size after each strided conv, in the order the forward pass runs them
    hooks = [m.register_forward_hook(lambda m, i, o: sizes.append(o.shape[-1])) for m in strided]
    error = None
    try:
        with eval_mode(model):
            out = model(torch.zeros(2, 1, 28, 28))
    except Exception as err:  # noqa: BLE001 - a wrong classifier size shows up here; the sizes say why
        error = err
    finally:
        for h in hooks:
            h.remove()
    if error is not None and len(sizes) < len(strided):
        return report(STRIDED, False, f"running a batch of 2 images raised {type(error).__name__}: {error}")
    if sizes != [14, 7, 3]:
        path = " → ".join(str(n) for n in [28, *sizes])
        hint = ("use padding=0 in the last block." if sizes == [14, 7, 4] else
                "each strided conv should halve the size once, and nothing else should downsample.")
        return report(STRIDED, False, f"the strided convolutions take the image {path}, but the pooled model goes 28 → 14 → 7 → 3; {hint}")
    if error is not None:
        return report(STRIDED, False, f"running a batch of 2 images raised {type(error).__name__}: {error}")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (2, 10):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return report(STRIDED, False, f"a batch of 2 images must give logits (2, 10), got {got}; check the classifier's input size.")
    extra = ""
    if pooled is not None:
        a, b = (sum(p.numel() for p in m.parameters()) for m in (model, pooled))
        extra = f" It has {a:,} parameters against {b:,} for the pooled model: a strided conv has the same weights as the conv it replaces."
    return report(STRIDED, True, f"{len(strided)} strided convolutions, no pooling, logits of shape (2, 10).{extra}")


@exercise(RESIDUAL)
def check_residual_block(block_cls) -> bool:
    """Exercise 01.3: ``block_cls(channels)`` computes relu(x + F(x)) with F two 3x3 conv-BN layers.

    With every conv weight at zero, F(x) is the last batch norm's shift b everywhere, so the block must give
    relu(x + b): b = 0 separates the classic mistakes, b = -0.5 anything else that is not relu(x + F(x)).
    """
    if isinstance(block_cls, nn.Module):
        return report(RESIDUAL, False, "pass the class itself (ResidualBlock), not an instance such as ResidualBlock(8).")
    if not callable(block_cls):
        return report(RESIDUAL, False, f"expected a class ResidualBlock(channels), got {type(block_cls).__name__}.")
    block = block_cls(8)
    if not isinstance(block, nn.Module):
        return report(RESIDUAL, False, f"ResidualBlock(8) must build an nn.Module, got {type(block).__name__}.")
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d) and m.kernel_size == (3, 3)]
    norms = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
    if len(convs) < 2 or len(norms) < 2:
        return report(RESIDUAL, False, f"F needs two 3×3 convolutions, each followed by batch norm; found {len(convs)} "
                                       f"3×3 conv(s) and {len(norms)} BatchNorm2d.")
    x = torch.randn(4, 8, 10, 10, generator=torch.Generator().manual_seed(0))
    with eval_mode(block):
        out = block(x)
    if not isinstance(out, torch.Tensor) or out.shape != x.shape:
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return report(RESIDUAL, False, f"the output must keep the input's shape {tuple(x.shape)}, got {got}; use padding=1.")
    for shift in (0.0, -0.5):
        with torch.no_grad():
            for m in block.modules():
                if isinstance(m, nn.Conv2d):
                    m.weight.zero_()
                    if m.bias is not None:
                        m.bias.zero_()
                if isinstance(m, nn.BatchNorm2d):
                    m.bias.fill_(shift)
        with eval_mode(block):
            out = block(x)
        if shift == 0 and torch.allclose(out, torch.zeros_like(out)):
            return report(RESIDUAL, False, "with all conv weights at zero the block outputs zeros: the input is never added back (x + F(x)).")
        if shift == 0 and torch.allclose(out, x):
            return report(RESIDUAL, False, "with all conv weights at zero the block returns x unchanged; apply the ReLU after adding x.")
        if not torch.allclose(out, torch.relu(x + shift), atol=1e-6):
            want = "relu(x)" if shift == 0 else f"relu(x - {-shift:g})"
            return report(RESIDUAL, False, f"with every conv weight at zero and every batch-norm shift at {shift:g}, F(x) = "
                                           f"{shift:g} everywhere, so the block should give {want}; add x to F(x), then apply one ReLU.")
    return report(RESIDUAL, True, "shape kept, and with F = 0 the block reduces to relu(x): the skip connection carries the input.")
