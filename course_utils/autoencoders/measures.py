"""Chapter 05's measurements of images and codes: sharpness, the power spectrum and its grid share, neighbour labels.

Introduced in chapter 05: ``sharpness`` is the blur measure of 05_autoencoders §1 and §4; ``power_spectrum`` and
``grid_power_share`` measure checkerboard artifacts in §5; ``neighbour_label_agreement`` scores how well a
t-SNE embedding (§11) keeps each class together. They only measure: nothing here trains.
"""

from __future__ import annotations

import numpy as np
import torch


def _images(images, name: str = "images") -> torch.Tensor:
    if not isinstance(images, torch.Tensor | np.ndarray):
        raise TypeError(f"{name} must be a tensor or array of images shaped (N, 1, H, W) or (N, H, W), got {type(images).__name__}.")
    x = torch.as_tensor(images).detach().cpu()
    if not x.is_floating_point():
        hint = ": convert and divide by 255 (x.float() / 255)" if not (x.is_complex() or x.dtype == torch.bool) else ""
        raise TypeError(f"{name} must hold float pixels, got {x.dtype}{hint}.")
    x = x.double()
    if x.dim() == 4 and x.shape[1] == 1:
        x = x[:, 0]
    if x.dim() != 3 or len(x) == 0 or min(x.shape[1:]) < 2:
        raise ValueError(f"{name} must be a non-empty batch of grey images shaped (N, 1, H, W) or (N, H, W), got {tuple(x.shape)}.")
    if not x.isfinite().all():
        raise ValueError(f"{name} hold NaN or infinite pixels.")
    return x


def sharpness(images) -> float:
    """Mean absolute difference between neighbouring pixels, horizontal plus vertical (0 for a flat image).

    Divide a reconstruction's value by the originals' to get the blur ratio of §4 (1 = as sharp as the data).
    """
    x = _images(images)
    return float((x[:, 1:, :] - x[:, :-1, :]).abs().mean() + (x[:, :, 1:] - x[:, :, :-1]).abs().mean())


def power_spectrum(images) -> np.ndarray:
    """Mean 2-D power spectrum |FFT|^2 of the images after removing each image's mean, zero frequency centred.

    A pattern that repeats every ``p`` pixels puts its power on the frequencies that are multiples of H/p.
    """
    x = _images(images)
    x = x - x.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).mean(0)
    return torch.fft.fftshift(power).numpy()


def grid_power_share(images, period: int = 4) -> float:
    """Share of the images' (mean-removed) spectral power on the frequencies of a ``period``-pixel grid.

    Those are the frequencies (u, v) with u and v multiples of H/period and W/period, other than (0, 0): exactly
    where any pattern that repeats every ``period`` pixels in both directions lives. Two stride-2 transposed
    convolutions leave such a pattern with period 4. For a flat spectrum the share is (period^2 - 1) / (H W - 1).
    """
    x = _images(images)
    h, w = x.shape[1:]
    if not (isinstance(period, int) and not isinstance(period, bool) and period >= 2 and h % period == 0 and w % period == 0):
        raise ValueError(f"period must be an int >= 2 that divides the image size {h}x{w}, got {period!r}.")
    x = x - x.mean(dim=(1, 2), keepdim=True)
    power = torch.fft.fft2(x).abs().pow(2).sum(0)
    total = power.sum()
    if total == 0:
        raise ValueError("images are flat (every image a single grey level): there is no power to share.")
    grid = power[::h // period, ::w // period].sum()  # the (period x period) lattice of frequencies, (0, 0) included
    return float(grid / total)  # (0, 0) holds no power once each image's mean is removed


def neighbour_label_agreement(points, labels, k: int = 10) -> np.ndarray:
    """For each class c: the share of the ``k`` nearest neighbours of class-c points (themselves excluded) in class c.

    ``points`` (N, D) are e.g. a 2-D t-SNE embedding, ``labels`` (N,) class indices 0..C-1. Returns an array (C,)
    (NaN for a class with no points). 1 means every point's neighbours share its class; chance is the class's share.
    """
    arrays = {}
    for name, value in (("points", points), ("labels", labels)):
        a = np.asarray(value.detach().cpu() if isinstance(value, torch.Tensor) else value)
        if not (np.issubdtype(a.dtype, np.number) or a.dtype == bool) or np.iscomplexobj(a):
            raise TypeError(f"{name} must be an array of real numbers, got {type(value).__name__} of dtype {a.dtype}.")
        arrays[name] = a
    p = torch.as_tensor(arrays["points"], dtype=torch.float64)
    y_raw = torch.as_tensor(arrays["labels"])
    if p.dim() != 2 or y_raw.dim() != 1 or len(p) != len(y_raw) or len(p) < 2 or not p.isfinite().all():
        raise ValueError(f"points must be finite and shaped (N, D), N >= 2, with one label per point, got points "
                         f"{tuple(p.shape)} and labels {tuple(y_raw.shape)}.")
    if y_raw.dtype == torch.bool or (y_raw.is_floating_point() and not torch.equal(y_raw, y_raw.round())):
        raise ValueError(f"labels must be class indices (ints 0..C-1), got {y_raw.dtype} values such as {y_raw[0].item()}.")
    y = y_raw.long()
    if not (isinstance(k, int) and not isinstance(k, bool) and 1 <= k < len(p)):
        raise ValueError(f"k must be an int from 1 to N - 1 = {len(p) - 1}, got {k!r}.")
    if (y < 0).any():
        raise ValueError("labels must be class indices >= 0.")
    dist = torch.cdist(p, p).fill_diagonal_(float("inf"))
    neighbours = dist.topk(k, largest=False).indices          # (N, k), nearest first
    same = (y[neighbours] == y[:, None]).double().mean(1)   # (N,)
    n_classes = int(y.max()) + 1
    return np.array([same[y == c].mean().item() if (y == c).any() else float("nan") for c in range(n_classes)])
