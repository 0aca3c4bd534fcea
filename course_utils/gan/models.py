"""Chapter 04's networks: the toy MLPs, the ``GAN`` pair that ``train.fit`` carries, and DCGAN for 28x28 images.

Introduced in chapter 04. §3 trains ``GAN(ToyGenerator, mlp)`` with a step written out in the notebook, §4 on the
ring of Gaussians; §5 shows ``Generator`` and ``Discriminator`` with ``show_source`` and prints their shapes.

- ``mlp`` / ``ToyGenerator``: small MLPs for the 2-D toy GAN (``ToyGenerator`` maps z to a point).
- ``GAN``: a generator ``G`` and a discriminator (or critic) ``D`` in one module; ``sample_z`` draws its latents.
- ``Generator`` / ``Discriminator``: DCGAN for images in [-1, 1]; the discriminator's ``norm`` picks batch norm
  (DCGAN), none (WGAN-GP critic) or spectral normalization (SN-GAN). ``init_dcgan_weights``: DCGAN's N(0, 0.02).
"""

from __future__ import annotations

import torch
import torch.nn as nn

NORMS = ("batch", "none", "spectral")


def mlp(in_features: int, out_features: int, hidden_dim: int = 128, depth: int = 3, leaky: bool = False) -> nn.Sequential:
    """``depth`` hidden layers of ``hidden_dim`` units (ReLU, or LeakyReLU(0.2) for a discriminator), then a linear output."""
    for name, value in (("in_features", in_features), ("out_features", out_features), ("hidden_dim", hidden_dim)):
        if not (isinstance(value, int) and not isinstance(value, bool) and value >= 1):
            raise ValueError(f"{name} must be a positive int, not {value!r}.")
    if not (isinstance(depth, int) and not isinstance(depth, bool) and depth >= 0):
        raise ValueError(f"depth (the number of hidden layers) must be an int >= 0, not {depth!r}.")
    layers, width = [], in_features
    for _ in range(depth):
        layers += [nn.Linear(width, hidden_dim), nn.LeakyReLU(0.2) if leaky else nn.ReLU()]
        width = hidden_dim
    return nn.Sequential(*layers, nn.Linear(width, out_features))


class ToyGenerator(nn.Module):
    """z (B, latent_dim) -> a point (B, 2): an MLP for the 2-D toy GAN."""

    def __init__(self, latent_dim: int = 2, hidden_dim: int = 128, depth: int = 3):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(latent_dim, 2, hidden_dim, depth)

    def forward(self, z):  # (B, latent_dim) -> (B, 2)
        return self.net(z)


# ---------------------------------------------------------------- the model pair

class GAN(nn.Module):
    """A generator ``G`` and a discriminator (or critic) ``D`` in one module, so ``train.fit`` can carry both."""

    def __init__(self, G: nn.Module, D: nn.Module):
        super().__init__()
        if not (isinstance(G, nn.Module) and isinstance(getattr(G, "latent_dim", None), int)):
            raise ValueError(f"G must be an nn.Module with an int attribute latent_dim (the size of z), got {type(G).__name__}.")
        if not isinstance(D, nn.Module):
            raise TypeError(f"D must be an nn.Module (the discriminator or critic), not {type(D).__name__}.")
        self.G, self.D = G, D

    @property
    def latent_dim(self) -> int:
        return self.G.latent_dim

    def sample_z(self, num_samples: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """``num_samples`` standard-normal latent vectors (num_samples, latent_dim) on the model's device."""
        if not (isinstance(num_samples, int) and not isinstance(num_samples, bool) and num_samples >= 0):
            raise ValueError(f"num_samples must be an int >= 0, not {num_samples!r}.")
        device = next(self.G.parameters()).device
        return torch.randn(num_samples, self.latent_dim, generator=generator).to(device)

    def forward(self, z):  # (B, latent_dim) -> a sample per z
        return self.G(z)


# ---------------------------------------------------------------- DCGAN for 28x28 images

class Generator(nn.Module):
    """DCGAN generator: z -> linear -> (2c, 7, 7) -> transposed convs -> (1, 28, 28) in [-1, 1].

    Batch norm and ReLU after every layer but the last, which ends in tanh (the data are scaled to [-1, 1]).
    """

    def __init__(self, latent_dim: int = 64, channels: int = 64):
        super().__init__()
        c = channels
        self.latent_dim = latent_dim
        self.net = nn.Sequential(
            nn.Linear(latent_dim, 2 * c * 49, bias=False), nn.BatchNorm1d(2 * c * 49), nn.ReLU(),  # (B, 2c*49)
            nn.Unflatten(1, (2 * c, 7, 7)),                                                         # (B, 2c, 7, 7)
            nn.ConvTranspose2d(2 * c, c, 4, stride=2, padding=1, bias=False), nn.BatchNorm2d(c), nn.ReLU(),  # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1), nn.Tanh(),                           # (B, 1, 28, 28)
        )

    def forward(self, z):  # (B, latent_dim) -> (B, 1, 28, 28)
        return self.net(z)


class Discriminator(nn.Module):
    """DCGAN discriminator: strided convs (28 -> 14 -> 7) with LeakyReLU(0.2), then one logit (or critic score).

    ``norm``: 'batch' (DCGAN: batch norm on the second conv, never on the input layer), 'none' (a WGAN-GP
    critic: the penalty is per sample, which batch norm would mix), or 'spectral' (every layer's weight divided
    by its largest singular value, ``torch.nn.utils.parametrizations.spectral_norm``).
    """

    def __init__(self, channels: int = 64, norm: str = "batch"):
        super().__init__()
        assert norm in NORMS, f"norm must be one of {NORMS}, not {norm!r}"
        c = channels
        sn = nn.utils.parametrizations.spectral_norm if norm == "spectral" else (lambda layer: layer)
        self.norm = norm
        self.net = nn.Sequential(
            sn(nn.Conv2d(1, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),                           # (B, c, 14, 14)
            sn(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1, bias=norm != "batch")),
            nn.BatchNorm2d(2 * c) if norm == "batch" else nn.Identity(), nn.LeakyReLU(0.2),            # (B, 2c, 7, 7)
            nn.Flatten(), sn(nn.Linear(2 * c * 49, 1)),                                                # (B, 1)
        )

    def forward(self, x):  # (B, 1, 28, 28) -> (B, 1)
        return self.net(x)


def init_dcgan_weights(module: nn.Module) -> None:
    """DCGAN's initialization: conv and linear weights ~ N(0, 0.02), batch-norm scales ~ N(1, 0.02)."""
    for m in module.modules():
        if isinstance(m, nn.Conv2d | nn.ConvTranspose2d | nn.Linear):
            weight = m.parametrizations.weight.original if hasattr(m, "parametrizations") else m.weight
            nn.init.normal_(weight, 0.0, 0.02)
            if m.bias is not None:
                nn.init.zeros_(m.bias)
        elif isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d):
            nn.init.normal_(m.weight, 1.0, 0.02)
            nn.init.zeros_(m.bias)
