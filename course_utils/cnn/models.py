"""Chapter 01's models: ``Normalize``, the ``MLP`` baseline, ``conv_block`` and ``FashionCNN``.

Introduced in chapter 01, §5 "An MLP baseline versus a small CNN": the notebook prints the MLP, shows
``conv_block`` and ``FashionCNN`` with ``show_source`` and prints the shape after each block in the cell after
(§7 and the exercises reuse ``Normalize``). ``FashionCNN`` is also chapter 04's and 06's evaluation classifier
(``gan.evaluation``, checkpoint ``fashion_classifier``): its submodule names are that checkpoint's keys.
"""

from __future__ import annotations

import math

import torch
import torch.nn as nn

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530  # pixel mean and std of the Fashion-MNIST training set


class Normalize(nn.Module):
    """(x - mean) / std as the model's first layer, so every caller feeds plain [0, 1] pixels (it checks that)."""

    def __init__(self, mean: float = FASHION_MEAN, std: float = FASHION_STD):
        super().__init__()
        if isinstance(mean, bool) or not isinstance(mean, int | float) or not math.isfinite(mean):
            raise ValueError(f"mean must be a finite number, got {mean!r}.")
        if isinstance(std, bool) or not isinstance(std, int | float) or not (math.isfinite(std) and std > 0):
            raise ValueError(f"std must be a positive finite number, got {std!r}.")
        self.mean, self.std = mean, std

    def forward(self, x):
        if not isinstance(x, torch.Tensor) or not x.is_floating_point() or x.numel() == 0:
            what = f"{x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__
            raise TypeError(f"x must be a non-empty float tensor of pixels in [0, 1], got a {what}.")
        low, high = torch.aminmax(x)
        if not (low >= 0 and high <= 1):  # NaN fails both comparisons
            if low.isnan() or high.isnan():
                raise ValueError("x holds NaN values; the model expects pixels in [0, 1].")
            raise ValueError(f"x holds values from {low.item():.4g} to {high.item():.4g}, but the model expects "
                             "pixels in [0, 1]: divide 0..255 images by 255 and do not standardize them first.")
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class MLP(nn.Module):
    """784 -> hidden_dims[0] -> hidden_dims[1] -> num_classes with ReLU and dropout: the chapter-01 baseline."""

    def __init__(self, in_features: int = 784, hidden_dims: tuple = (256, 128), num_classes: int = 10,
                 dropout: float = 0.2):
        super().__init__()
        for name, value in (("in_features", in_features), ("num_classes", num_classes)):
            if isinstance(value, bool) or not isinstance(value, int) or value < 1:
                raise ValueError(f"{name} must be a positive int, got {value!r}.")
        if not (isinstance(hidden_dims, tuple | list) and len(hidden_dims) == 2
                and all(isinstance(h, int) and not isinstance(h, bool) and h > 0 for h in hidden_dims)):
            raise ValueError(f"hidden_dims must be two positive ints (the widths of the two hidden layers), got {hidden_dims!r}.")
        if isinstance(dropout, bool) or not isinstance(dropout, int | float) or not 0 <= dropout < 1:
            raise ValueError(f"dropout must be a probability in [0, 1), got {dropout!r}.")
        h1, h2 = hidden_dims
        self.in_features = in_features
        self.net = nn.Sequential(
            Normalize(), nn.Flatten(),                                               # (B, in_features)
            nn.Linear(in_features, h1), nn.ReLU(inplace=True), nn.Dropout(dropout),  # (B, h1)
            nn.Linear(h1, h2), nn.ReLU(inplace=True), nn.Dropout(dropout),           # (B, h2)
            nn.Linear(h2, num_classes),                                              # (B, num_classes)
        )

    def forward(self, x):  # (B, 1, 28, 28) -> (B, num_classes)
        if not isinstance(x, torch.Tensor) or x.dim() < 2 or x[0].numel() != self.in_features:
            shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
            raise ValueError(f"x must be a batch of images with {self.in_features} pixels each, "
                             f"e.g. (B, 1, 28, 28), got {shape}.")
        return self.net(x)


def conv_block(in_channels: int, out_channels: int) -> nn.Sequential:
    """3x3 conv (no bias: batch norm has one) -> batch norm -> ReLU -> 2x2 max pool: halves H and W."""
    if not all(isinstance(c, int) and c > 0 for c in (in_channels, out_channels)):
        raise ValueError(f"in_channels and out_channels must be positive ints, got {in_channels!r} and {out_channels!r}.")
    return nn.Sequential(
        nn.Conv2d(in_channels, out_channels, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(out_channels),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class FashionCNN(nn.Module):
    """Three conv blocks (28 -> 14 -> 7 -> 3) and a linear classifier: the chapter-01 CNN."""

    def __init__(self, channels: tuple = (32, 64, 128), num_classes: int = 10, dropout: float = 0.2):
        super().__init__()
        if not (isinstance(channels, tuple | list) and len(channels) == 3 and all(isinstance(c, int) and c > 0 for c in channels)
                and isinstance(num_classes, int) and num_classes > 0):
            raise ValueError(f"channels must be three positive ints and num_classes a positive int, got {channels!r} and {num_classes!r}.")
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            Normalize(),
            conv_block(1, c1),   # (B, c1, 14, 14)
            conv_block(c1, c2),  # (B, c2, 7, 7)
            conv_block(c2, c3),  # (B, c3, 3, 3)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3 * 3 * 3, num_classes))

    def forward(self, x):  # (B, 1, 28, 28) -> (B, num_classes)
        return self.classifier(self.embed(x))

    def embed(self, x):
        """Penultimate features (B, c3*9), used by chapter 04's Fréchet distance."""
        if not isinstance(x, torch.Tensor) or x.shape[1:] != (1, 28, 28):
            raise ValueError(f"x must be a (B, 1, 28, 28) tensor of images, got {tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__}.")
        return self.features(x).flatten(1)
