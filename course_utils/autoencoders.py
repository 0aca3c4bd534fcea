"""Autoencoders: fully connected and convolutional models, their training step, and anomaly scoring.

Introduced in chapter 05, where each model is first explained in the notebook; chapter 06 reuses
the models and the latent-space view. Every model has the same contract:
``encode(x) -> z`` (B, latent_dim), ``decode(z) -> x_hat`` (B, 1, 28, 28), ``forward(x) = decode(encode(x))``.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import batches, train

OUTPUTS = {"sigmoid": nn.Sigmoid, "tanh": nn.Tanh, "none": nn.Identity}
LOSSES = ("bce", "mse", "mae")


def _check_choice(name: str, value: str, options) -> None:
    if value not in options:
        raise ValueError(f"Unknown {name} {value!r}; choose one of {', '.join(options)}.")


def _check_images(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{fn} expects images shaped (B, 1, 28, 28), got {shape}.")


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


def reconstruction_loss(x_hat: torch.Tensor, x: torch.Tensor, loss: str = "bce") -> torch.Tensor:
    """Mean per-pixel loss: 'bce' (needs x_hat and x in [0, 1]), 'mse' or 'mae'."""
    _check_choice("loss", loss, LOSSES)
    if loss == "bce":
        return F.binary_cross_entropy(x_hat, x)
    return F.mse_loss(x_hat, x) if loss == "mse" else F.l1_loss(x_hat, x)


def autoencoder_step(loss: str = "bce", l1_code: float = 0.0):
    """A ``train.fit`` step for batches ``(x,)`` or ``(x_input, x_target)``: reconstruction loss + l1_code * mean|z|."""
    _check_choice("loss", loss, LOSSES)

    def step(model, batch, optimizer=None):
        x_in, target = batch[0], batch[-1]
        z = model.encode(x_in)
        rec = reconstruction_loss(model.decode(z), target, loss)
        total = rec + l1_code * z.abs().mean() if l1_code else rec
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            total.backward()
            optimizer.step()
        return {"loss": total.item(), "rec": rec.item()}

    return step


def add_noise(std: float, vary: bool = False, generator: torch.Generator | None = None):
    """A batch transform: add Gaussian noise of standard deviation ``std`` and clip to [0, 1].

    With ``vary=True`` each image gets its own standard deviation, uniform in [0, std].
    """
    if not std >= 0:
        raise ValueError(f"std must be >= 0, got {std}.")

    def corrupt(x):
        scale = std * torch.rand(len(x), 1, 1, 1, generator=generator).to(x.device) if vary else std
        noise = torch.randn(x.shape, generator=generator).to(x.device)
        return (x + scale * noise).clamp(0, 1)

    return corrupt


def fit_autoencoder(model, X: torch.Tensor, *, num_epochs: int, loss: str = "bce", lr: float = 2e-3,
                    batch_size: int = 128, l1_code: float = 0.0, transform=None, target: torch.Tensor | None = None,
                    device="cpu", seed: int = 0, verbose: bool = False, live_plot: bool = False) -> train.History:
    """Train ``model`` to reconstruct ``X`` (or ``target``) with Adam and a one-cycle learning rate peaking at ``lr``.

    ``transform`` corrupts the input of each batch only (denoising); ``l1_code`` weighs an L1 penalty on the code.

    Returns the History of ``train.fit`` (the last weights are kept).
    """
    _check_images(X, "fit_autoencoder")
    target = X if target is None else target
    if len(target) != len(X):
        raise ValueError(f"target has {len(target)} images but X has {len(X)}; give one target per input.")
    torch.manual_seed(seed)
    model.to(device)
    loader = batches.Batches(X, target, batch_size=batch_size, shuffle=True, drop_last=True, device=device,
                             transform=transform, seed=seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = num_epochs * len(loader)
    scheduler = None if total_steps < 10 else torch.optim.lr_scheduler.OneCycleLR(  # too few steps for a schedule
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler,
                     step=autoencoder_step(loss, l1_code), monitor=None, verbose=verbose, live_plot=live_plot)


@torch.no_grad()
def reconstruction_errors(model, X: torch.Tensor, target: torch.Tensor | None = None,
                          batch_size: int = 1000) -> torch.Tensor:
    """Mean squared error per image between ``model(X)`` and ``target`` (default ``X``): shape (N,), on the CPU.

    This is the anomaly score: images unlike the training data reconstruct badly.
    """
    _check_images(X, "reconstruction_errors")
    target = X if target is None else target
    if target.shape != X.shape:
        raise ValueError(f"target must have the shape of X {tuple(X.shape)}, got {tuple(target.shape)}.")
    x_hat = train.predict(model, X, batch_size=batch_size).cpu()
    return (x_hat - target.cpu()).pow(2).flatten(1).mean(1)


def anomaly_roc_auc(scores_normal, scores_anomalous) -> float:
    """ROC-AUC of separating anomalous from normal examples by score (higher score = more anomalous).

    0.5 is chance; 1.0 means every anomaly scores above every normal example.
    """
    from sklearn.metrics import roc_auc_score

    normal, anomalous = torch.as_tensor(scores_normal).flatten(), torch.as_tensor(scores_anomalous).flatten()
    if len(normal) == 0 or len(anomalous) == 0:
        raise ValueError(f"anomaly_roc_auc needs scores of both groups, got {len(normal)} normal and {len(anomalous)} anomalous.")
    y_true = torch.cat([torch.zeros(len(normal)), torch.ones(len(anomalous))])
    return float(roc_auc_score(y_true.numpy(), torch.cat([normal, anomalous]).double().numpy()))


def encode_all(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """``model.encode`` over ``X`` in eval mode, batch by batch: codes (N, latent_dim) on the CPU."""
    _check_images(X, "encode_all")
    return train.predict(model, X, batch_size=batch_size, method="encode").cpu()
