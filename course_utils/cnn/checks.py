"""Auto-checks for the chapter exercises: call one on your answer, read "passed" or a specific hint.

Each check returns True/False and prints one line. An answer that is missing (``None``) or still
raises ``NotImplementedError`` is reported as "not yet solved", never as a crash.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F

from ..checks import attempt, report


def check_conv_output_size(fn) -> bool:
    """Exercise 01.1: ``fn(h, k, s=1, p=0, d=1)`` must give the conv output size PyTorch produces."""
    title = "conv output size"
    if fn is None:
        return report(title, False, "not yet solved - define conv_output_size(h, k, s=1, p=0, d=1).")
    cases = [c for c in itertools.product([5, 7, 8, 28, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
             if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1]
    for h, k, s, p, d in cases:
        truth = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        got, failed = attempt(title, fn, h, k, s, p, d)
        if failed is not None:
            return failed
        if got != truth:
            hint = "remember the floor: use // on integers." if isinstance(got, float) else (
                "dilation stretches the kernel to d*(k-1)+1 pixels." if d > 1 and fn(h, k, s, p, 1) ==
                F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
                else "padding adds p pixels on *both* sides; the stride divides what is left after the first window.")
            return report(title, False, f"for h={h}, k={k}, s={s}, p={p}, d={d} PyTorch gives {truth}, yours {got}; {hint}")
    return report(title, True, f"matches F.conv2d on {len(cases)} combinations of size, kernel, stride, padding, dilation.")


def check_strided_cnn(model: nn.Module, pooled: nn.Module | None = None) -> bool:
    """Exercise 01.2: a CNN that downsamples with stride-2 convolutions instead of pooling layers."""
    title = "stride instead of pooling"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `strided_cnn`.")
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d | nn.AvgPool2d)]
    if pools:
        return report(title, False, f"the model still has {len(pools)} pooling layer(s); replace each by stride=2 in the conv before it.")
    strided = [m for m in model.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if len(strided) < 2:
        return report(title, False, f"only {len(strided)} conv layer(s) have stride 2; the pooled model halves the size three times.")
    out, failed = attempt(title, model.eval(), torch.zeros(2, 1, 28, 28))
    if failed is not None:
        return failed
    if tuple(out.shape) != (2, 10):
        return report(title, False, f"a batch of 2 images must give logits (2, 10), got {tuple(out.shape)}; check the classifier's input size.")
    extra = ""
    if pooled is not None:
        a, b = (sum(p.numel() for p in m.parameters()) for m in (model, pooled))
        extra = f" It has {a:,} parameters against {b:,} for the pooled model: a strided conv has the same weights as the conv it replaces."
    return report(title, True, f"{len(strided)} strided convolutions, no pooling, logits of shape (2, 10).{extra}")


def check_residual_block(block_cls) -> bool:
    """Exercise 01.3: ``block_cls(channels)`` computes relu(x + F(x)) with F two 3x3 conv-BN layers."""
    title = "residual block"
    if block_cls is None:
        return report(title, False, "not yet solved - define the class ResidualBlock(channels).")
    block, failed = attempt(title, block_cls, 8)
    if failed is not None:
        return failed
    x = torch.randn(4, 8, 10, 10)
    out, failed = attempt(title, block.eval(), x)
    if failed is not None:
        return failed
    if tuple(out.shape) != tuple(x.shape):
        return report(title, False, f"the output must keep the input's shape {tuple(x.shape)}, got {tuple(out.shape)}; use padding=1.")
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.zero_()
                if m.bias is not None:
                    m.bias.zero_()
            if isinstance(m, nn.BatchNorm2d):
                m.bias.zero_()
        out = block(x)
    if torch.allclose(out, torch.zeros_like(out)):
        return report(title, False, "with all conv weights at zero the block outputs zeros: the input is never added back (x + F(x)).")
    if torch.allclose(out, x):
        return report(title, False, "with all conv weights at zero the block returns x unchanged; apply the ReLU after adding x.")
    if not torch.allclose(out, torch.relu(x), atol=1e-6):
        return report(title, False, "with zero conv weights the block should give relu(x); add x to the residual branch before the last ReLU.")
    return report(title, True, "shape kept, and with F = 0 the block reduces to relu(x): the skip connection carries the input.")
