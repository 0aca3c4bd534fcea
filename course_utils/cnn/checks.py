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


def _build_block(title: str, block_cls, name: str, argument: str) -> nn.Module | bool:
    """Build ``block_cls(8)`` for a block exercise; returns the block, or False after printing what is wrong
    (an instance instead of the class, something not callable, a class that does not build an nn.Module)."""
    if isinstance(block_cls, nn.Module):
        return report(title, False, f"pass the class itself ({name}), not an instance such as {name}(8).")
    if not callable(block_cls):
        return report(title, False, f"expected a class {name}({argument}), got {type(block_cls).__name__}.")
    try:
        block = block_cls(8)
    except TypeError as err:  # most often a signature with more arguments than the exercise asks for
        return report(title, False, f"{name}(8) raised TypeError: {err}; the block takes one argument, {argument}.")
    if not isinstance(block, nn.Module):
        return report(title, False, f"{name}(8) must build an nn.Module, got {type(block).__name__}.")
    return block


@exercise(RESIDUAL)
def check_residual_block(block_cls) -> bool:
    """Exercise 01.3: ``block_cls(channels)`` computes relu(x + F(x)) with F two 3x3 conv-BN layers.

    With every conv weight at zero, F(x) is the last batch norm's shift b everywhere, so the block must give
    relu(x + b): b = 0 separates the classic mistakes, b = -0.5 anything else that is not relu(x + F(x)).
    """
    block = _build_block(RESIDUAL, block_cls, "ResidualBlock", "channels")
    if not isinstance(block, nn.Module):
        return False
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


SAME_PADDING, DOWN_BLOCK = "'same' padding with dilation", "downsampling residual block"


@exercise(SAME_PADDING)
def check_same_padding(fn) -> bool:
    """Exercise 01.1: ``fn(k, d)`` returns the padding p that keeps the size at stride 1, or None if none exists."""
    if not callable(fn):
        return report(SAME_PADDING, False, f"expected a function same_padding(k, d), got {type(fn).__name__}.")
    cases = sorted(itertools.product([1, 2, 3, 4, 5, 7], [1, 2, 3, 4]), key=lambda c: c[0] % 2 == 0)  # odd kernels first
    for k, d in cases:
        got = fn(k, d)
        exists = d * (k - 1) % 2 == 0
        where = f"for k={k}, d={d}"
        if not exists:
            if got is not None:
                return report(SAME_PADDING, False, f"{where} the kernel spans d*(k-1)+1 = {d * (k - 1) + 1} pixels, an even "
                                                   f"number, so no symmetric padding keeps the size; return None, not {got!r}.")
            continue
        if isinstance(got, float):
            return report(SAME_PADDING, False, f"{where} yours returned {got!r}, a float; use // (padding counts whole pixels).")
        if got is None or isinstance(got, bool) or not isinstance(got, int | np.integer):
            return report(SAME_PADDING, False, f"{where} 'same' padding exists, but yours returned {got!r}; return an int.")
        if got < 0:
            return report(SAME_PADDING, False, f"{where} yours returned {got}; padding adds pixels on each side, so it "
                                               "is >= 0: check the sign.")
        sizes = {h: _torch_size(h, k, 1, int(got), d) if h + 2 * got >= d * (k - 1) + 1 else None for h in (9, 16, 28)}
        if any(size != h for h, size in sizes.items()):
            truth = d * (k - 1) // 2
            hint = (" That is (k-1)//2, the answer without dilation: a dilated kernel spans d*(k-1)+1 pixels."
                    if got == (k - 1) // 2 and d > 1 else "")
            return report(SAME_PADDING, False, f"{where} padding {got} turns a 28-pixel input into {sizes[28]} pixels, "
                                               f"not 28; it should be {truth}.{hint}")
    return report(SAME_PADDING, True, f"keeps the size (checked with F.conv2d) or returns None, for {len(cases)} (k, d) pairs.")


@exercise(DOWN_BLOCK)
def check_down_block(block_cls) -> bool:
    """Exercise 01.3: ``block_cls(c)`` maps (B, c, H, W) to (B, 2c, H/2, W/2) as relu(F(x) + P(x)), where F is a
    stride-2 3x3 conv-BN-ReLU-3x3 conv-BN and the shortcut P a 1x1 stride-2 conv followed by batch norm."""
    block = _build_block(DOWN_BLOCK, block_cls, "DownBlock", "in_channels")
    if not isinstance(block, nn.Module):
        return False
    convs = [m for m in block.modules() if isinstance(m, nn.Conv2d)]
    ones = [m for m in convs if m.kernel_size == (1, 1)]
    if not ones:
        return report(DOWN_BLOCK, False, "no 1×1 convolution found: x has 8 channels at 10×10 but F(x) has 16 at 5×5, so the "
                                         "shortcut needs a 1×1 conv with 16 filters and stride 2 to match it.")
    if any(m.stride != (2, 2) for m in ones):
        return report(DOWN_BLOCK, False, "the 1×1 shortcut conv must have stride=2, or its output keeps the input's size.")
    x = torch.randn(4, 8, 10, 10, generator=torch.Generator().manual_seed(0))
    try:
        with eval_mode(block):
            out = block(x)
    except RuntimeError as err:
        return report(DOWN_BLOCK, False, f"DownBlock(8) on a (4, 8, 10, 10) batch raised: {err}. Do F(x) and the shortcut "
                                         "have the same shape (16 channels, 5×5)?")
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (4, 16, 5, 5):
        got = tuple(out.shape) if isinstance(out, torch.Tensor) else type(out).__name__
        return report(DOWN_BLOCK, False, f"a (4, 8, 10, 10) input must give (4, 16, 5, 5): channels ×2, size ÷2; got {got}.")
    shortcut, main = ones[0], [m for m in convs if m.kernel_size == (3, 3)]
    if len(main) < 2:
        return report(DOWN_BLOCK, False, f"F needs two 3×3 convolutions; found {len(main)}.")
    with torch.no_grad():  # zero F: the block must reduce to relu(BN(1x1 conv(x))); check the shortcut alone
        for m in main:
            m.weight.zero_()
            if m.bias is not None:
                m.bias.zero_()
        norms = [m for m in block.modules() if isinstance(m, nn.BatchNorm2d)]
        with eval_mode(block):
            out = block(x)
            projected = F.conv2d(x, shortcut.weight, shortcut.bias, stride=2)
            candidates = [projected] + [bn(projected) for bn in norms if bn.num_features == 16]
    if torch.allclose(out, torch.zeros_like(out)) and any(not torch.allclose(torch.relu(c), torch.zeros_like(c)) for c in candidates):
        return report(DOWN_BLOCK, False, "with F's convs at zero the block outputs zeros: the shortcut is never added (F(x) + P(x)).")
    if not any(torch.allclose(out, torch.relu(c + b), atol=1e-5) for c in candidates
               for b in [0] + [bn.bias.view(1, -1, 1, 1) for bn in norms if bn.num_features == 16]):
        if any(torch.allclose(out, c, atol=1e-5) for c in candidates):
            return report(DOWN_BLOCK, False, "with F at zero the block returns the shortcut without the final ReLU; apply relu "
                                             "after adding the two paths.")
        return report(DOWN_BLOCK, False, "with F's convs at zero the block should give relu(shortcut(x) + F's last batch-norm "
                                         "shift); add F(x) and the projected x, then apply one ReLU.")
    return report(DOWN_BLOCK, True, "channels ×2 and size ÷2, with a 1×1 stride-2 projection shortcut added before the ReLU.")
