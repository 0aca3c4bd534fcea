"""Generative adversarial networks: toy data, the losses, one training step for ``train.fit``, DCGAN models.

Introduced in chapter 04, where each piece is first written out in the notebook. Chapter 06 compares its
VAE with this chapter's generator through ``pretrained_generator()``.

- ``ring_of_gaussians`` / ``count_modes``: the 2-D toy distribution and how many of its modes a sample covers.
- losses on the discriminator's *logits* (``discriminator_loss``, ``generator_loss``) and the Wasserstein
  critic's *scores* (``critic_loss``, ``gradient_penalty``).
- ``gan_step``: a ``step(model, batch, optimizer)`` for ``train.fit``; ``model`` is a ``GAN`` holding ``G`` and
  ``D``, ``optimizer`` a dict ``{"G": ..., "D": ...}``.
- ``Generator`` / ``Discriminator``: DCGAN for 28x28 images in [-1, 1]; the discriminator's ``norm`` picks batch
  norm (DCGAN), none (WGAN-GP critic) or spectral normalization (SN-GAN).
- ``CHECKPOINTS``: the three Fashion-MNIST variants, trained by ``python scripts/make_checkpoints.py gan_dcgan ...``.
"""

from __future__ import annotations

import torch
import torch.nn as nn

NORMS = ("batch", "none", "spectral")


def _check_choice(name: str, value, options) -> None:
    if value not in options:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(map(str, options))}.")


def mlp(n_in: int, n_out: int, hidden: int = 128, depth: int = 3, leaky: bool = False) -> nn.Sequential:
    """``depth`` hidden layers of ``hidden`` units (ReLU, or LeakyReLU(0.2) for a discriminator), then a linear output."""
    layers, width = [], n_in
    for _ in range(depth):
        layers += [nn.Linear(width, hidden), nn.LeakyReLU(0.2) if leaky else nn.ReLU()]
        width = hidden
    return nn.Sequential(*layers, nn.Linear(width, n_out))


class ToyGenerator(nn.Module):
    """z (B, latent_dim) -> a point (B, 2): an MLP for the 2-D toy GAN."""

    def __init__(self, latent_dim: int = 2, hidden: int = 128, depth: int = 3):
        super().__init__()
        self.latent_dim = latent_dim
        self.net = mlp(latent_dim, 2, hidden, depth)

    def forward(self, z):  # (B, latent_dim) -> (B, 2)
        return self.net(z)


# ---------------------------------------------------------------- the model pair and its training step

class GAN(nn.Module):
    """A generator ``G`` and a discriminator (or critic) ``D`` in one module, so ``train.fit`` can carry both."""

    def __init__(self, G: nn.Module, D: nn.Module):
        super().__init__()
        if not hasattr(G, "latent_dim"):
            raise ValueError("G needs an attribute latent_dim (the size of z).")
        self.G, self.D = G, D

    @property
    def latent_dim(self) -> int:
        return self.G.latent_dim

    def sample_z(self, n: int, generator: torch.Generator | None = None) -> torch.Tensor:
        """n standard-normal latent vectors (n, latent_dim) on the model's device."""
        device = next(self.G.parameters()).device
        return torch.randn(n, self.latent_dim, generator=generator).to(device)

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
        _check_choice("norm", norm, NORMS)
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
