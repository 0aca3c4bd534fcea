"""Data augmentation on whole batches of images (B, C, H, W), on whatever device they are.

Introduced in chapter 01. Each function draws its own random numbers from torch's global
generator, so ``runtime.seed_everything`` makes a run repeat.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_images(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor):
        raise TypeError(f"{fn}: x must be a tensor of images shaped (B, C, H, W), not {type(x).__name__}.")
    if x.dim() != 4:
        raise ValueError(f"{fn}: x must be a batch of images shaped (B, C, H, W), got shape {tuple(x.shape)}.")


def _check_p(p, fn: str) -> None:
    if isinstance(p, bool) or not isinstance(p, (int, float)) or not 0 <= p <= 1:
        raise ValueError(f"{fn}: p must be a probability in [0, 1], not {p!r}.")


def random_flip(x: torch.Tensor, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    _check_images(x, "random_flip")
    _check_p(p, "random_flip")
    flip = torch.rand(x.shape[0], device=x.device) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_shift(x: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Translate each image by a random whole number of pixels in [-max_shift, max_shift], zero-filled."""
    _check_images(x, "random_shift")
    if isinstance(max_shift, bool) or not isinstance(max_shift, int) or max_shift < 0:
        raise ValueError(f"random_shift: max_shift must be a non-negative int, not {max_shift!r}.")
    if max_shift == 0:
        return x
    B, _, H, W = x.shape
    s = max_shift
    padded = F.pad(x, (s, s, s, s))
    dy = torch.randint(0, 2 * s + 1, (B,), device=x.device)
    dx = torch.randint(0, 2 * s + 1, (B,), device=x.device)
    rows = (dy[:, None] + torch.arange(H, device=x.device))[:, None, :, None]  # (B, 1, H, 1)
    cols = (dx[:, None] + torch.arange(W, device=x.device))[:, None, None, :]  # (B, 1, 1, W)
    batch = torch.arange(B, device=x.device)[:, None, None, None]
    chans = torch.arange(x.shape[1], device=x.device)[None, :, None, None]
    return padded[batch, chans, rows, cols]


def random_erase(x: torch.Tensor, size: int = 8, p: float = 0.5) -> torch.Tensor:
    """Zero a random ``size``×``size`` square in each image with probability ``p`` (cutout).

    The square's top-left corner is uniform over [-size + 1, H - 1], so it may hang over the border (then the part
    inside the image is erased) and every pixel is equally likely to be covered.
    """
    _check_images(x, "random_erase")
    B, _, H, W = x.shape
    if isinstance(size, bool) or not isinstance(size, int) or not 1 <= size <= min(H, W):
        raise ValueError(f"random_erase: size must be an int from 1 to {min(H, W)}, not {size!r}.")
    _check_p(p, "random_erase")
    top = torch.randint(-size + 1, H, (B,), device=x.device)[:, None, None]
    left = torch.randint(-size + 1, W, (B,), device=x.device)[:, None, None]
    ys = torch.arange(H, device=x.device)[None, :, None]
    xs = torch.arange(W, device=x.device)[None, None, :]
    box = (ys >= top) & (ys < top + size) & (xs >= left) & (xs < left + size)
    box &= (torch.rand(B, device=x.device) < p)[:, None, None]
    return x.masked_fill(box[:, None], 0.0)
