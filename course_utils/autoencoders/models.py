"""Autoencoders: fully connected and convolutional models, their training step, and anomaly scoring.

Introduced in chapter 05, where each model is first explained in the notebook; chapter 06 reuses
the models and the latent-space view. Every model has the same contract:
``encode(x) -> z`` (B, latent_dim), ``decode(z) -> x_hat`` (B, 1, 28, 28), ``forward(x) = decode(encode(x))``.
"""

from __future__ import annotations

import torch.nn as nn

OUTPUTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}


def _check_choice(name: str, value: str, options) -> None:
    if value not in options:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(options)}.")


def dense_block(n_in: int, n_out: int, batch_norm: bool = False, dropout: float = 0.0) -> nn.Sequential:
    """Linear -> (batch norm) -> ReLU -> (dropout)."""
    layers = [nn.Linear(n_in, n_out)]
    layers += [nn.BatchNorm1d(n_out)] if batch_norm else []
    layers += [nn.ReLU()]
    layers += [nn.Dropout(dropout)] if dropout > 0 else []
    return nn.Sequential(*layers)


class MLPAutoencoder(nn.Module):
    """Fully connected hourglass: 784 -> hidden... -> latent_dim -> reversed(hidden)... -> 784.

    ``encoder`` and ``decoder`` are Sequentials of blocks on flat vectors, one block per layer, so
    ``encoder[k]`` and its mirror ``decoder[-1 - k]`` form the k-th shallow autoencoder of greedy
    layer-wise pretraining. The code layer is linear; ``output`` is the decoder's last activation.
    """

    def __init__(self, latent_dim: int = 32, hidden: tuple = (256, 128, 64), in_features: int = 784,
                 output: str = "sigmoid", batch_norm: bool = False, dropout: float = 0.0):
        super().__init__()
        _check_choice("output", output, OUTPUTS)
        if not isinstance(latent_dim, int) or latent_dim < 1:
            raise ValueError(f"latent_dim must be a positive int, not {latent_dim!r}.")
        sizes = [in_features, *hidden]
        self.encoder = nn.Sequential(
            *[dense_block(a, b, batch_norm, dropout) for a, b in zip(sizes[:-1], sizes[1:])],  # (B, hidden[i])
            nn.Linear(sizes[-1], latent_dim),                                                 # (B, latent_dim)
        )
        back = [latent_dim, *reversed(hidden)]
        self.decoder = nn.Sequential(
            *[dense_block(a, b, batch_norm, dropout) for a, b in zip(back[:-1], back[1:])],    # (B, hidden[-1-i])
            nn.Sequential(nn.Linear(back[-1], in_features), OUTPUTS[output]()),               # (B, 784)
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
        _check_choice("decoder", decoder, ("transposed", "upsample"))
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
