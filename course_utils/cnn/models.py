"""Models shared between chapters.

Introduced in chapter 01, where each is first built and explained in the notebook. The
Fashion-MNIST classifier ``FashionCNN`` is reused by chapter 04 as the feature extractor of
its Fréchet distance and class coverage.
"""

from __future__ import annotations

import torch.nn as nn

FASHION_MEAN, FASHION_STD = 0.2860, 0.3530  # pixel mean and std of the Fashion-MNIST training set


class Normalize(nn.Module):
    """(x - mean) / std as the model's first layer, so every caller feeds plain [0, 1] pixels."""

    def __init__(self, mean: float = FASHION_MEAN, std: float = FASHION_STD):
        super().__init__()
        self.mean, self.std = mean, std

    def forward(self, x):
        return (x - self.mean) / self.std

    def extra_repr(self) -> str:
        return f"mean={self.mean}, std={self.std}"


class MLP(nn.Module):
    """Flatten the image, then fully connected layers with ReLU: the chapter-01 baseline."""

    def __init__(self, in_features: int = 784, hidden: tuple = (256, 128), num_classes: int = 10, dropout: float = 0.2):
        super().__init__()
        layers, width = [Normalize(), nn.Flatten()], in_features
        for h in hidden:
            layers += [nn.Linear(width, h), nn.ReLU(inplace=True), nn.Dropout(dropout)]
            width = h
        layers.append(nn.Linear(width, num_classes))
        self.net = nn.Sequential(*layers)

    def forward(self, x):  # (B, 1, 28, 28) -> (B, 10)
        return self.net(x)


def conv_block(c_in: int, c_out: int) -> nn.Sequential:
    """3x3 conv (no bias: batch norm has one) -> batch norm -> ReLU -> 2x2 max pool: halves H and W."""
    return nn.Sequential(
        nn.Conv2d(c_in, c_out, kernel_size=3, padding=1, bias=False),
        nn.BatchNorm2d(c_out),
        nn.ReLU(inplace=True),
        nn.MaxPool2d(2),
    )


class FashionCNN(nn.Module):
    """Three conv blocks (28 -> 14 -> 7 -> 3) and a linear classifier: the chapter-01 CNN."""

    def __init__(self, channels: tuple = (32, 64, 128), num_classes: int = 10, dropout: float = 0.2):
        super().__init__()
        c1, c2, c3 = channels
        self.features = nn.Sequential(
            Normalize(),
            conv_block(1, c1),   # (B, c1, 14, 14)
            conv_block(c1, c2),  # (B, c2, 7, 7)
            conv_block(c2, c3),  # (B, c3, 3, 3)
        )
        self.classifier = nn.Sequential(nn.Flatten(), nn.Dropout(dropout), nn.Linear(c3 * 3 * 3, num_classes))

    def forward(self, x):  # (B, 1, 28, 28) -> (B, num_classes)
        return self.classifier(self.features(x))

    def embed(self, x):
        """Penultimate features (B, c3*9), used by chapter 04's Fréchet distance."""
        return self.features(x).flatten(1)
