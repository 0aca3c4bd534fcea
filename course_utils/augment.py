"""Data augmentation on whole batches of images (B, C, H, W), on whatever device they are.

Introduced in chapter 01. Each function draws its own random numbers from torch's global
generator, so ``runtime.seed_everything`` makes a run repeat.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F


def _check_images(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4:
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{fn} expects a batch of images shaped (B, C, H, W), got {shape}.")


def random_flip(x: torch.Tensor, p: float = 0.5) -> torch.Tensor:
    """Mirror each image left-right with probability ``p``."""
    _check_images(x, "random_flip")
    flip = torch.rand(x.shape[0], device=x.device) < p
    return torch.where(flip[:, None, None, None], x.flip(-1), x)


def random_shift(x: torch.Tensor, max_shift: int = 2) -> torch.Tensor:
    """Translate each image by a random whole number of pixels in [-max_shift, max_shift], zero-filled."""
    _check_images(x, "random_shift")
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
    """Zero a random ``size``×``size`` square in each image with probability ``p`` (cutout)."""
    _check_images(x, "random_erase")
    B, _, H, W = x.shape
    cy = torch.randint(0, H, (B,), device=x.device)[:, None, None]
    cx = torch.randint(0, W, (B,), device=x.device)[:, None, None]
    ys = torch.arange(H, device=x.device)[None, :, None]
    xs = torch.arange(W, device=x.device)[None, None, :]
    box = ((ys - cy).abs() <= size // 2) & ((xs - cx).abs() <= size // 2)
    box &= (torch.rand(B, device=x.device) < p)[:, None, None]
    return x.masked_fill(box[:, None], 0.0)
