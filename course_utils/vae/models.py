"""Chapter 06's models: the VAE contract, ``MLPVAE``, ``ConvVAE``, ``ConvHeadVAE``, the conditional ``CVAE``, the VQ-VAE.

Introduced in chapter 06: ``VAE`` and ``MLPVAE`` are shown in 06_vae §1 (shapes printed in the cell after),
``ConvVAE`` and ``ConvHeadVAE`` in §4 (the equal-time race), ``CVAE`` in §11 and ``VectorQuantizer`` in §12 (its
gradient routing checked in the cell after). Every VAE here has one contract: ``encode(x) -> (mu, logvar)`` (each
(B, latent_dim)), ``decode_logits(z) -> (B, 1, 28, 28)`` logits, ``decode(z) = sigmoid(decode_logits(z))`` and
``forward(x) -> (logits, mu, logvar)`` with a sampled z. The conditional VAE takes the label as a second
argument everywhere: ``encode(x, y)``, ``decode(z, y)``. The losses are in ``elbo.py``, the trainers in
``training.py``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from .elbo import reparameterize

# ---------------------------------------------------------------- models

class VAE(nn.Module):
    """The shared contract; a subclass builds ``encoder`` (image -> features), ``to_stats`` and ``decoder``."""

    latent_dim: int

    def encode(self, x):  # (B, 1, 28, 28) -> 2 x (B, latent_dim)
        mu, logvar = self.to_stats(self.encoder(x)).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z):  # (B, latent_dim) -> (B, 1, 28, 28)
        return self.decoder(z)

    def decode(self, z):
        return torch.sigmoid(self.decode_logits(z))

    def means(self, x):  # the posterior means, for plots: (B, latent_dim)
        return self.encode(x)[0]

    def forward(self, x):
        mu, logvar = self.encode(x)
        return self.decode_logits(reparameterize(mu, logvar)), mu, logvar


class MLPVAE(VAE):
    """784 -> hidden_dim -> (mu, logvar) of size latent_dim; z -> hidden_dim -> 784 logits."""

    def __init__(self, latent_dim: int = 20, hidden_dim: int = 400):
        super().__init__()
        if not (isinstance(latent_dim, int) and isinstance(hidden_dim, int) and min(latent_dim, hidden_dim) > 0):
            raise ValueError(f"latent_dim and hidden_dim must be positive ints, got {latent_dim!r} and {hidden_dim!r}.")
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden_dim), nn.ReLU())  # (B, hidden_dim)
        self.to_stats = nn.Linear(hidden_dim, 2 * latent_dim)                               # (B, 2 * latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden_dim), nn.ReLU(),          # (B, hidden_dim)
                                     nn.Linear(hidden_dim, 784), nn.Unflatten(1, (1, 28, 28)))  # (B, 1, 28, 28)
        self.latent_dim = latent_dim


class ConvVAE(VAE):
    """Two stride-2 4x4 convs down (28 -> 14 -> 7), linear (mu, logvar); mirrored transposed convs up.

    ``channels=(c1, c2)`` sets the widths. On a CPU, run it in channels_last memory format
    (``fit_vae(..., channels_last=True)``): the convolutions are faster there.
    """

    def __init__(self, latent_dim: int = 20, channels: tuple = (32, 64)):
        super().__init__()
        if not (isinstance(latent_dim, int) and latent_dim > 0 and isinstance(channels, tuple | list) and len(channels) == 2
                and all(isinstance(c, int) and c > 0 for c in channels)):
            raise ValueError(f"latent_dim must be a positive int and channels a pair of positive ints, got {latent_dim!r} and {channels!r}.")
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 4, stride=2, padding=1), nn.ReLU(),   # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 4, stride=2, padding=1), nn.ReLU(),  # (B, c2, 7, 7)
            nn.Flatten(),                                          # (B, c2 * 49)
        )
        self.to_stats = nn.Linear(c2 * 49, 2 * latent_dim)         # (B, 2 * latent_dim)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 49), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),  # (B, c2, 7, 7)
            nn.ConvTranspose2d(c2, c1, 4, stride=2, padding=1), nn.ReLU(),           # (B, c1, 14, 14)
            nn.ConvTranspose2d(c1, 1, 4, stride=2, padding=1),                       # (B, 1, 28, 28)
        )
        self.latent_dim = latent_dim


class ConvHead(nn.Module):
    """A residual convolutional correction of decoder logits (B, 1, 28, 28), computed on 4x4 patches.

    Pixel unshuffle turns the 28x28 logits into 16 channels of 7x7 (one channel per position in a 4x4 patch),
    two 3x3 convolutions compute a correction in that shape, and pixel shuffle puts it back: the output is
    ``logits + correction``. Each corrected pixel sees the logits of a 20x20 neighbourhood, and the convolutions run
    on 16 and 32 channels, the shapes CPU convolutions handle well (one channel at 28x28 they handle badly).
    """

    def __init__(self, patch: int = 4, channels: int = 32):
        super().__init__()
        if isinstance(patch, bool) or not (isinstance(patch, int) and patch > 0 and 28 % patch == 0):
            raise ValueError(f"patch must be a positive int that divides 28 (1, 2, 4, 7, 14 or 28), got {patch!r}.")
        if isinstance(channels, bool) or not (isinstance(channels, int) and channels > 0):
            raise ValueError(f"channels must be a positive int, got {channels!r}.")
        p2 = patch * patch
        self.correction = nn.Sequential(
            nn.PixelUnshuffle(patch),                                  # (B, p2, 28/p, 28/p)
            nn.Conv2d(p2, channels, 3, padding=1), nn.ReLU(),          # (B, channels, 28/p, 28/p)
            nn.Conv2d(channels, p2, 3, padding=1),                     # (B, p2, 28/p, 28/p)
            nn.PixelShuffle(patch),                                    # (B, 1, 28, 28)
        )

    def forward(self, logits):
        return logits + self.correction(logits)


class ConvHeadVAE(VAE):
    """The MLP VAE with a convolutional head on its decoder: z -> hidden_dim -> 784 logits -> ``ConvHead``.

    The encoder is the MLP's; the decoder's 784 logits are corrected by a residual convolution over neighbouring
    pixels (``ConvHead``), which an MLP's one output layer gives no structure to. ``patch`` and ``channels`` go to
    ``ConvHead``.
    """

    def __init__(self, latent_dim: int = 20, hidden_dim: int = 400, patch: int = 4, channels: int = 32):
        super().__init__()
        mlp = MLPVAE(latent_dim, hidden_dim)  # checks latent_dim and hidden_dim
        self.encoder, self.to_stats = mlp.encoder, mlp.to_stats
        self.decoder = nn.Sequential(*mlp.decoder, ConvHead(patch, channels))  # (B, 1, 28, 28)
        self.latent_dim = latent_dim


class CVAE(nn.Module):
    """Conditional MLP VAE: the one-hot label joins the image at the encoder and the code at the decoder."""

    def __init__(self, latent_dim: int = 20, hidden_dim: int = 400, num_classes: int = 10):
        super().__init__()
        if not all(isinstance(n, int) and n > 0 for n in (latent_dim, hidden_dim, num_classes)):
            raise ValueError(f"latent_dim, hidden_dim and num_classes must be positive ints, got {latent_dim!r}, {hidden_dim!r}, {num_classes!r}.")
        self.encoder = nn.Sequential(nn.Linear(784 + num_classes, hidden_dim), nn.ReLU(),  # (B, hidden_dim)
                                     nn.Linear(hidden_dim, 2 * latent_dim))                # (B, 2 * latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim + num_classes, hidden_dim), nn.ReLU(),  # (B, hidden_dim)
                                     nn.Linear(hidden_dim, 784), nn.Unflatten(1, (1, 28, 28)))   # (B, 1, 28, 28)
        self.latent_dim, self.num_classes = latent_dim, num_classes

    def _onehot(self, y, batch: int):  # (B,) labels -> (B, num_classes)
        if not (isinstance(y, torch.Tensor) and y.dtype == torch.long and y.shape == (batch,) and ((0 <= y) & (y < self.num_classes)).all()):
            raise ValueError(f"y must be one class label per image: a torch.long tensor of shape ({batch},) with values 0..{self.num_classes - 1}.")
        return F.one_hot(y, self.num_classes).float()

    def encode(self, x, y):  # (B, 1, 28, 28), (B,) -> 2 x (B, latent_dim)
        mu, logvar = self.encoder(torch.cat([x.flatten(1), self._onehot(y, len(x))], 1)).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z, y):  # (B, latent_dim), (B,) -> (B, 1, 28, 28)
        return self.decoder(torch.cat([z, self._onehot(y, len(z))], 1))

    def decode(self, z, y):
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode_logits(reparameterize(mu, logvar), y), mu, logvar


# ---------------------------------------------------------------- VQ-VAE

class VectorQuantizer(nn.Module):
    """Replace each D-dim vector of a (B, D, H, W) map by its nearest of ``num_codes`` codebook vectors.

    ``forward(z_e)`` returns ``(z_q, codebook_loss, commitment_loss, indices)``: z_q carries the codebook
    values forward but passes the gradient straight through to z_e; the codebook learns only from
    codebook_loss = |sg(z_e) - e|², and commitment_loss = |z_e - sg(e)|² keeps the encoder near its codes.
    """

    def __init__(self, num_codes: int = 64, code_dim: int = 16):
        super().__init__()
        if not (isinstance(num_codes, int) and isinstance(code_dim, int) and min(num_codes, code_dim) > 0):
            raise ValueError(f"num_codes and code_dim must be positive ints, got {num_codes!r} and {code_dim!r}.")
        self.codebook = nn.Embedding(num_codes, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / num_codes, 1.0 / num_codes)
        self.num_codes, self.code_dim = num_codes, code_dim

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N,) code indices
        e = self.codebook.weight
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ e.T + e.pow(2).sum(1)  # (N, K) squared distances
        return dist.argmin(1)

    def forward(self, z_e):  # (B, D, H, W)
        if not (isinstance(z_e, torch.Tensor) and z_e.dim() == 4 and z_e.shape[1] == self.code_dim):
            raise ValueError(f"z_e must be a map shaped (B, {self.code_dim}, H, W), got {getattr(z_e, 'shape', type(z_e).__name__)}.")
        b, d, h, w = z_e.shape
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, d)                 # (B*H*W, D)
        indices = self.nearest(flat.detach())                         # (B*H*W,)
        z_q = self.codebook(indices).view(b, h, w, d).permute(0, 3, 1, 2)  # (B, D, H, W)
        codebook_loss = F.mse_loss(z_q, z_e.detach())
        commitment_loss = F.mse_loss(z_e, z_q.detach())
        z_st = z_e + (z_q - z_e).detach()  # forward: z_q; backward: identity to z_e
        return z_st, codebook_loss, commitment_loss, indices.view(b, h, w)

    @torch.no_grad()
    def init_from(self, z_e: torch.Tensor, seed: int = 0) -> None:
        """Start the codebook at randomly chosen encoder outputs (fewer codes that are never used)."""
        if not (isinstance(z_e, torch.Tensor) and z_e.dim() == 4 and z_e.shape[1] == self.code_dim and z_e.numel()):
            raise ValueError(f"z_e must be encoder outputs shaped (B, {self.code_dim}, H, W), got {getattr(z_e, 'shape', type(z_e).__name__)}.")
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, self.code_dim)
        pick = torch.randperm(len(flat), generator=torch.Generator().manual_seed(seed))[:self.num_codes]
        self.codebook.weight.copy_(flat[pick % len(flat)])


class VQVAE(nn.Module):
    """Conv encoder to a 7x7 grid of code_dim vectors, vector quantization, transposed-conv decoder."""

    def __init__(self, num_codes: int = 64, code_dim: int = 16, channels: int = 32):
        super().__init__()
        if not (isinstance(channels, int) and channels > 0):
            raise ValueError(f"channels must be a positive int, got {channels!r}.")
        c = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c, 4, stride=2, padding=1), nn.ReLU(),   # (B, c, 14, 14)
            nn.Conv2d(c, c, 4, stride=2, padding=1), nn.ReLU(),   # (B, c, 7, 7)
            nn.Conv2d(c, code_dim, 1),                            # (B, code_dim, 7, 7)
        )
        self.quantizer = VectorQuantizer(num_codes, code_dim)
        self.decoder = nn.Sequential(
            nn.Conv2d(code_dim, c, 3, padding=1), nn.ReLU(),                # (B, c, 7, 7)
            nn.ConvTranspose2d(c, c, 4, stride=2, padding=1), nn.ReLU(),    # (B, c, 14, 14)
            nn.ConvTranspose2d(c, 1, 4, stride=2, padding=1),               # (B, 1, 28, 28) logits
        )

    def forward(self, x):  # (B, 1, 28, 28) -> logits, codebook_loss, commitment_loss, indices (B, 7, 7)
        z_q, codebook_loss, commitment_loss, indices = self.quantizer(self.encoder(x))
        return self.decoder(z_q), codebook_loss, commitment_loss, indices

    def decode_indices(self, indices):  # (B, 7, 7) code indices -> (B, 1, 28, 28) images
        num_codes = self.quantizer.num_codes
        if not (isinstance(indices, torch.Tensor) and indices.dim() == 3 and not indices.is_floating_point()
                and ((0 <= indices) & (indices < num_codes)).all()):
            raise ValueError(f"indices must be an integer tensor (B, H, W) of code numbers in [0, {num_codes}).")
        z_q = self.quantizer.codebook(indices).permute(0, 3, 1, 2)
        return torch.sigmoid(self.decoder(z_q))
