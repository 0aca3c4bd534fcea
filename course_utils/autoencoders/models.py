"""Chapter 05's two autoencoders: the fully connected hourglass ``MLPAutoencoder`` and ``ConvAutoencoder``.

Introduced in chapter 05: ``MLPAutoencoder`` is shown in 05_autoencoders §1 (its parameter count is asserted
equal to the widths formula in the cell after) and pretrained block by block in §6; ``ConvAutoencoder`` is shown
in §5 with both decoders. Chapter 06 compares ``MLPAutoencoder`` with the VAE. Both models share one contract:
``encode(x) -> z`` (B, latent_dim), ``decode(z) -> x_hat`` (B, 1, 28, 28), ``forward(x) = decode(encode(x))``.
"""

from __future__ import annotations

import torch.nn as nn

OUTPUTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}
DECODERS = ("transposed", "upsample")


def _sizes(latent_dim, widths, length: int | None = None) -> bool:
    """True when latent_dim is a positive int and widths a tuple or list of positive ints (of ``length`` items)."""
    def positive(n):
        return isinstance(n, int) and not isinstance(n, bool) and n > 0

    return (positive(latent_dim) and isinstance(widths, tuple | list) and all(map(positive, widths))
            and (length is None or len(widths) == length))


def dense_block(in_features: int, out_features: int, batch_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """Linear -> (batch norm) -> ReLU -> (dropout): one layer of ``MLPAutoencoder``."""
    layers = [nn.Linear(in_features, out_features)]
    layers += [nn.BatchNorm1d(out_features)] if batch_norm else []
    layers += [nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout > 0 else []
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Fully connected hourglass on flattened 28x28 images. With the defaults, 784-256-128-64-32-64-128-256-784::

        x (B, 1, 28, 28) -> flatten                        (B, 784)
        encoder[0]  dense_block(784, 256)                  (B, 256)
        encoder[1]  dense_block(256, 128)                  (B, 128)
        encoder[2]  dense_block(128, 64)                   (B, 64)
        encoder[3]  Linear(64, latent_dim)                 z (B, 32)    the code layer is linear
        decoder[0]  dense_block(latent_dim, 64)            (B, 64)
        decoder[1]  dense_block(64, 128)                   (B, 128)
        decoder[2]  dense_block(128, 256)                  (B, 256)
        decoder[3]  Linear(256, 784) -> output activation  (B, 784) -> view (B, 1, 28, 28)

    ``hidden_dims`` are the encoder's hidden widths; the decoder mirrors them, so ``encoder[k]`` and
    ``decoder[-1 - k]`` form the k-th shallow autoencoder of greedy layer-wise pretraining. ``output`` is the
    decoder's last activation: "sigmoid" for pixels in [0, 1], "tanh" for [-1, 1], "none" for unbounded data.
    """

    def __init__(self, latent_dim: int = 32, hidden_dims: tuple = (256, 128, 64), output: str = "sigmoid",
                 batch_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        if not (_sizes(latent_dim, hidden_dims) and output in OUTPUTS and isinstance(dropout, float | int) and 0 <= dropout < 1):
            raise ValueError(f"MLPAutoencoder takes a positive int latent_dim, a tuple of positive int hidden_dims, output in "
                             f"{list(OUTPUTS)} and 0 <= dropout < 1; got latent_dim={latent_dim!r}, "
                             f"hidden_dims={hidden_dims!r}, output={output!r}, dropout={dropout!r}.")
        down = [784, *hidden_dims]   # 784 -> hidden_dims[0] -> ... -> hidden_dims[-1]
        up = [latent_dim, *reversed(hidden_dims)]  # latent_dim -> hidden_dims[-1] -> ... -> hidden_dims[0]
        self.encoder = nn.Sequential(
            *[dense_block(a, b, batch_norm, dropout) for a, b in zip(down[:-1], down[1:])],  # (B, hidden_dims[k])
            nn.Linear(down[-1], latent_dim),                                                 # (B, latent_dim)
        )
        self.decoder = nn.Sequential(
            *[dense_block(a, b, batch_norm, dropout) for a, b in zip(up[:-1], up[1:])],      # (B, hidden_dims[-1 - k])
            nn.Sequential(nn.Linear(up[-1], 784), OUTPUTS[output]()),                        # (B, 784)
        )
        self.latent_dim = latent_dim

    def encode(self, x):  # (B, 1, 28, 28) -> (B, latent_dim)
        return self.encoder(x.flatten(1))

    def decode(self, z):  # (B, latent_dim) -> (B, 1, 28, 28)
        return self.decoder(z).view(-1, 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


class ConvAutoencoder(nn.Module):
    """Two stride-2 convolutions down (28 -> 14 -> 7), a linear code, and a mirrored decoder up.

    ``decoder="transposed"`` upsamples with stride-2 transposed convolutions (kernel 3, padding 1,
    output_padding 1); ``decoder="upsample"`` with nearest-neighbour upsampling followed by a 3x3 conv.
    """

    def __init__(self, latent_dim: int = 32, channels: tuple = (16, 32), decoder: str = "transposed"):
        super().__init__()
        if not (_sizes(latent_dim, channels, length=2) and decoder in DECODERS):
            raise ValueError(f"ConvAutoencoder takes a positive int latent_dim, two positive int channels and decoder in "
                             f"{list(DECODERS)}; got latent_dim={latent_dim!r}, channels={channels!r}, decoder={decoder!r}.")
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, stride=2, padding=1), nn.ReLU(),   # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, stride=2, padding=1), nn.ReLU(),  # (B, c2, 7, 7)
            nn.Flatten(), nn.Linear(c2 * 49, latent_dim),          # (B, latent_dim)
        )
        if decoder == "transposed":
            up = [nn.ConvTranspose2d(c2, c1, 3, stride=2, padding=1, output_padding=1), nn.ReLU(),  # (B, c1, 14, 14)
                  nn.ConvTranspose2d(c1, 1, 3, stride=2, padding=1, output_padding=1)]             # (B, 1, 28, 28)
        else:
            up = [nn.Upsample(scale_factor=2), nn.Conv2d(c2, c1, 3, padding=1), nn.ReLU(),  # (B, c1, 14, 14)
                  nn.Upsample(scale_factor=2), nn.Conv2d(c1, 1, 3, padding=1)]             # (B, 1, 28, 28)
        self.decoder = nn.Sequential(
            nn.Linear(latent_dim, c2 * 49), nn.ReLU(), nn.Unflatten(1, (c2, 7, 7)),  # (B, c2, 7, 7)
            *up, nn.Sigmoid(),
        )
        self.latent_dim = latent_dim

    def encode(self, x):  # (B, 1, 28, 28) -> (B, latent_dim)
        return self.encoder(x)

    def decode(self, z):  # (B, latent_dim) -> (B, 1, 28, 28)
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))
