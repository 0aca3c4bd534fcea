"""Variational autoencoders: Gaussian KL, reparameterization, MLP / conv / conditional VAEs, the ELBO step, VQ-VAE.

Introduced in chapter 06, where each piece is first derived in the notebook. Every VAE here has one contract:
``encode(x) -> (mu, logvar)`` (each (B, latent_dim)), ``decode_logits(z) -> (B, 1, 28, 28)`` logits,
``decode(z) = sigmoid(decode_logits(z))`` and ``forward(x) -> (logits, mu, logvar)`` with a sampled z.
The conditional VAE takes the label as a second argument everywhere: ``encode(x, y)``, ``decode(z, y)``.
Losses are in nats per image: binary cross-entropy summed over the 784 pixels plus the KL summed over the
latent dimensions.
"""

from __future__ import annotations

import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from . import batches, train


def _check_pair(mu: torch.Tensor, logvar: torch.Tensor, fn: str) -> None:
    if not isinstance(mu, torch.Tensor) or not isinstance(logvar, torch.Tensor) or mu.shape != logvar.shape:
        shapes = [tuple(t.shape) if isinstance(t, torch.Tensor) else type(t).__name__ for t in (mu, logvar)]
        raise ValueError(f"{fn} needs mu and logvar tensors of the same shape, got {shapes[0]} and {shapes[1]}.")


def _check_images(x: torch.Tensor, fn: str) -> None:
    if not isinstance(x, torch.Tensor) or x.dim() != 4 or tuple(x.shape[1:]) != (1, 28, 28):
        shape = tuple(x.shape) if isinstance(x, torch.Tensor) else type(x).__name__
        raise ValueError(f"{fn} expects images shaped (B, 1, 28, 28), got {shape}.")


# ---------------------------------------------------------------- the two formulas of a VAE

def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, 1) ) for each dimension, same shape as ``mu`` (sum it over dimensions).

    Closed form: 0.5 * (mu² + σ² - 1 - log σ²).
    """
    _check_pair(mu, logvar, "gaussian_kl")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample z = mu + σ ⊙ ε with ε ~ N(0, I): random, yet differentiable in mu and logvar."""
    _check_pair(mu, logvar, "reparameterize")
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


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


def _check_latent(latent_dim) -> None:
    if not isinstance(latent_dim, int) or latent_dim < 1:
        raise ValueError(f"latent_dim must be a positive int, not {latent_dim!r}.")


class MLPVAE(VAE):
    """784 -> hidden -> (mu, logvar) of size latent_dim; z -> hidden -> 784 logits."""

    def __init__(self, latent_dim: int = 20, hidden: int = 400):
        super().__init__()
        _check_latent(latent_dim)
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, hidden), nn.ReLU())  # (B, hidden)
        self.to_stats = nn.Linear(hidden, 2 * latent_dim)                               # (B, 2 * latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim, hidden), nn.ReLU(),          # (B, hidden)
                                     nn.Linear(hidden, 784), nn.Unflatten(1, (1, 28, 28)))  # (B, 1, 28, 28)
        self.latent_dim = latent_dim


class ConvVAE(VAE):
    """Two stride-2 4x4 convs down (28 -> 14 -> 7), linear (mu, logvar); mirrored transposed convs up.

    ``channels=(c1, c2)`` sets the widths. On a CPU, run it in channels_last memory format
    (``fit_vae(..., channels_last=True)``): the convolutions are faster there.
    """

    def __init__(self, latent_dim: int = 20, channels: tuple = (32, 64)):
        super().__init__()
        _check_latent(latent_dim)
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


class CVAE(nn.Module):
    """Conditional MLP VAE: the one-hot label joins the image at the encoder and the code at the decoder."""

    def __init__(self, latent_dim: int = 20, hidden: int = 400, num_classes: int = 10):
        super().__init__()
        self.encoder = nn.Sequential(nn.Linear(784 + num_classes, hidden), nn.ReLU(),  # (B, hidden)
                                     nn.Linear(hidden, 2 * latent_dim))                # (B, 2 * latent_dim)
        self.decoder = nn.Sequential(nn.Linear(latent_dim + num_classes, hidden), nn.ReLU(),  # (B, hidden)
                                     nn.Linear(hidden, 784), nn.Unflatten(1, (1, 28, 28)))   # (B, 1, 28, 28)
        self.latent_dim, self.num_classes = latent_dim, num_classes

    def _onehot(self, y):
        if not isinstance(y, torch.Tensor) or y.dim() != 1 or y.dtype != torch.long:
            raise ValueError("y must be a 1-D tensor of integer class labels (torch.long).")
        return F.one_hot(y, self.num_classes).float()

    def encode(self, x, y):  # (B, 1, 28, 28), (B,) -> 2 x (B, latent_dim)
        mu, logvar = self.encoder(torch.cat([x.flatten(1), self._onehot(y)], 1)).chunk(2, dim=1)
        return mu, logvar

    def decode_logits(self, z, y):  # (B, latent_dim), (B,) -> (B, 1, 28, 28)
        return self.decoder(torch.cat([z, self._onehot(y)], 1))

    def decode(self, z, y):
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode_logits(reparameterize(mu, logvar), y), mu, logvar


# ---------------------------------------------------------------- the ELBO as a train.fit step

def elbo_terms(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """Per-image reconstruction (B,) = BCE summed over pixels, and per-dimension KL (B, latent_dim), in nats."""
    if logits.shape != x.shape:
        raise ValueError(f"logits {tuple(logits.shape)} and images {tuple(x.shape)} must have the same shape.")
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    return rec, gaussian_kl(mu, logvar)


def vae_step(beta: float = 1.0, anneal_steps: int = 0, free_bits: float = 0.0, conditional: bool = False):
    """A ``train.fit`` step for VAEs on batches ``(x, ...)`` (``(x, y)`` when ``conditional``).

    Minimizes rec + weight * KL per image, where weight = beta, ramped linearly from 0 over the first
    ``anneal_steps`` training steps (KL annealing). With ``free_bits`` = λ > 0 each dimension's batch-mean KL
    below λ nats is not penalized: the KL term becomes Σ_j max(λ, KL_j). Returns per-image averages:
    'loss' (the objective), 'nelbo' (= rec + kl, the true negative ELBO), 'rec', 'kl', and 'kl_weight'.
    """
    if beta < 0 or free_bits < 0 or anneal_steps < 0:
        raise ValueError(f"beta, anneal_steps and free_bits must be >= 0, got {beta}, {anneal_steps}, {free_bits}.")
    state = {"steps": 0}

    def step(model, batch, optimizer=None):
        x = batch[0]
        logits, mu, logvar = model(x, batch[1]) if conditional else model(x)
        rec, kl_dims = elbo_terms(logits, x, mu, logvar)
        rec, kl = rec.mean(), kl_dims.sum(1).mean()
        weight = beta * min(1.0, state["steps"] / anneal_steps) if anneal_steps else beta
        kl_term = torch.clamp(kl_dims.mean(0), min=free_bits).sum() if free_bits else kl
        loss = rec + weight * kl_term
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
            state["steps"] += 1
        return {"loss": loss.item(), "nelbo": (rec + kl).item(), "rec": rec.item(), "kl": kl.item(), "kl_weight": weight}

    return step


def fit_vae(model, X: torch.Tensor, y: torch.Tensor | None = None, *, num_epochs: int, lr: float = 2e-3,
            batch_size: int = 128, beta: float = 1.0, anneal_steps: int = 0, free_bits: float = 0.0,
            channels_last: bool = False, device="cpu", seed: int = 0, verbose: bool = False,
            live_plot: bool = False) -> train.History:
    """Train a VAE (a CVAE when ``y`` is given) with Adam and a one-cycle learning rate peaking at ``lr``.

    ``channels_last`` keeps conv models and batches in the memory layout that CPU convolutions prefer.
    Returns the History of ``train.fit`` with train_loss / train_nelbo / train_rec / train_kl per epoch.
    """
    _check_images(X, "fit_vae")
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(device, memory_format=fmt)
    tensors = (X,) if y is None else (X, y)
    loader = batches.Batches(*tensors, batch_size=batch_size, shuffle=True, drop_last=True, device=device, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    total_steps = num_epochs * len(loader)
    scheduler = None if total_steps < 10 else torch.optim.lr_scheduler.OneCycleLR(
        optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.2)
    step = vae_step(beta, anneal_steps, free_bits, conditional=y is not None)
    return train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler, step=step,
                     monitor=None, verbose=verbose, live_plot=live_plot)


def one_cycle_lr(fraction: float, max_lr: float, pct_start: float = 0.2) -> float:
    """The one-cycle learning rate at ``fraction`` of training: linear warm-up from max_lr/25, then cosine to ~0."""
    if fraction < pct_start:
        return max_lr / 25 + (max_lr - max_lr / 25) * fraction / pct_start
    progress = min(1.0, (fraction - pct_start) / (1 - pct_start))
    return max_lr / 25 / 1e4 + (max_lr - max_lr / 25 / 1e4) * 0.5 * (1 + math.cos(math.pi * progress))


def fit_for_seconds(model, X: torch.Tensor, seconds: float, *, lr: float = 2e-3, batch_size: int = 128,
                    channels_last: bool = False, seed: int = 0) -> list[dict]:
    """Train a VAE for a fixed wall time, with the one-cycle schedule running on the *fraction of time* spent.

    Stops when the time is up, mid-epoch if need be, so two models get exactly the same budget. Returns one
    record per (possibly partial) epoch: {'epoch' (fractional), 'seconds', 'nelbo', 'rec', 'kl'}.
    """
    if seconds <= 0:
        raise ValueError(f"seconds must be positive, got {seconds}.")
    _check_images(X, "fit_for_seconds")
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt).train()
    loader = batches.Batches(X, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer, step = torch.optim.Adam(model.parameters(), lr=lr), vae_step()
    start, records, seen = time.perf_counter(), [], 0
    while time.perf_counter() - start < seconds:
        epoch_start, totals, n = time.perf_counter(), {"nelbo": 0.0, "rec": 0.0, "kl": 0.0}, 0
        for batch in loader:
            fraction = (time.perf_counter() - start) / seconds
            if fraction >= 1:
                break
            for group in optimizer.param_groups:
                group["lr"] = one_cycle_lr(fraction, lr)
            logs = step(model, batch, optimizer)
            for k in totals:
                totals[k] += logs[k] * len(batch[0])
            n += len(batch[0])
        seen += n
        if n:
            records.append({"epoch": seen / len(X), "seconds": time.perf_counter() - epoch_start,
                            **{k: v / n for k, v in totals.items()}})
    model.to(memory_format=torch.contiguous_format).eval()
    return records


@torch.no_grad()
def negative_elbo(model, X: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1000, seed: int = 0) -> dict:
    """Test-set negative ELBO in nats per image (one z sample per image, seeded): {'nelbo', 'rec', 'kl'}."""
    _check_images(X, "negative_elbo")
    was_training = model.training
    model.eval()
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    rec_sum, kl_sum = 0.0, 0.0
    for i in range(0, len(X), batch_size):
        x = X[i:i + batch_size].to(device)
        extra = () if y is None else (y[i:i + batch_size].to(device),)
        mu, logvar = model.encode(x, *extra)
        logits = model.decode_logits(reparameterize(mu, logvar, g), *extra)
        rec, kl_dims = elbo_terms(logits, x, mu, logvar)
        rec_sum, kl_sum = rec_sum + rec.sum().item(), kl_sum + kl_dims.sum().item()
    model.train(was_training)
    return {"nelbo": (rec_sum + kl_sum) / len(X), "rec": rec_sum / len(X), "kl": kl_sum / len(X)}


@torch.no_grad()
def kl_per_dimension(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Average KL of each latent dimension over the images ``X``, in nats: shape (latent_dim,).

    A dimension whose KL is near 0 has a posterior equal to the prior for every image: it carries no
    information about x (it has *collapsed*).
    """
    _check_images(X, "kl_per_dimension")
    mu, logvar = (torch.cat(t) for t in zip(*[model.eval().encode(X[i:i + batch_size].to(next(model.parameters()).device))
                                              for i in range(0, len(X), batch_size)]))
    return gaussian_kl(mu, logvar).mean(0).cpu()


def active_dimensions(kl_dims: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent dimensions whose average KL exceeds ``threshold`` nats."""
    if not isinstance(kl_dims, torch.Tensor) or kl_dims.dim() != 1:
        raise ValueError("kl_dims must be the 1-D tensor returned by kl_per_dimension.")
    return int((kl_dims > threshold).sum())


# ---------------------------------------------------------------- VQ-VAE

class VectorQuantizer(nn.Module):
    """Replace each D-dim vector of a (B, D, H, W) map by its nearest of ``num_codes`` codebook vectors.

    ``forward(z_e)`` returns ``(z_q, codebook_loss, commitment_loss, indices)``: z_q carries the codebook
    values forward but passes the gradient straight through to z_e; the codebook learns only from
    codebook_loss = |sg(z_e) - e|², and commitment_loss = |z_e - sg(e)|² keeps the encoder near its codes.
    """

    def __init__(self, num_codes: int = 64, code_dim: int = 16):
        super().__init__()
        self.codebook = nn.Embedding(num_codes, code_dim)
        nn.init.uniform_(self.codebook.weight, -1.0 / num_codes, 1.0 / num_codes)
        self.num_codes, self.code_dim = num_codes, code_dim

    def nearest(self, flat: torch.Tensor) -> torch.Tensor:  # (N, D) -> (N,) code indices
        e = self.codebook.weight
        dist = flat.pow(2).sum(1, keepdim=True) - 2 * flat @ e.T + e.pow(2).sum(1)  # (N, K) squared distances
        return dist.argmin(1)

    def forward(self, z_e):  # (B, D, H, W)
        if z_e.dim() != 4 or z_e.shape[1] != self.code_dim:
            raise ValueError(f"VectorQuantizer expects (B, {self.code_dim}, H, W), got {tuple(z_e.shape)}.")
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
        flat = z_e.permute(0, 2, 3, 1).reshape(-1, self.code_dim)
        pick = torch.randperm(len(flat), generator=torch.Generator().manual_seed(seed))[:self.num_codes]
        self.codebook.weight.copy_(flat[pick % len(flat)])


class VQVAE(nn.Module):
    """Conv encoder to a 7x7 grid of code_dim vectors, vector quantization, transposed-conv decoder."""

    def __init__(self, num_codes: int = 64, code_dim: int = 16, channels: int = 32):
        super().__init__()
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
        z_q = self.quantizer.codebook(indices).permute(0, 3, 1, 2)
        return torch.sigmoid(self.decoder(z_q))


def vq_step(commitment: float = 0.25):
    """A ``train.fit`` step for a VQVAE: mean per-pixel BCE + codebook loss + commitment * commitment loss."""

    def step(model, batch, optimizer=None):
        x = batch[0]
        logits, codebook_loss, commitment_loss, indices = model(x)
        rec = F.binary_cross_entropy_with_logits(logits, x)
        loss = rec + codebook_loss + commitment * commitment_loss
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            optimizer.step()
        used = indices.unique().numel() / model.quantizer.num_codes
        return {"loss": loss.item(), "rec": rec.item(), "codebook": codebook_loss.item(),
                "commit": commitment_loss.item(), "used": used}

    return step


def codebook_usage(indices: torch.Tensor, num_codes: int) -> dict:
    """How many codes a set of indices uses: {'used', 'fraction', 'perplexity'} (perplexity = exp(entropy))."""
    idx = torch.as_tensor(indices).flatten().long()
    if idx.numel() == 0 or idx.min() < 0 or idx.max() >= num_codes:
        raise ValueError(f"indices must be a non-empty set of code numbers in [0, {num_codes}).")
    p = torch.bincount(idx, minlength=num_codes).double() / idx.numel()
    entropy = -(p[p > 0] * p[p > 0].log()).sum().item()
    used = int((p > 0).sum())
    return {"used": used, "fraction": used / num_codes, "perplexity": math.exp(entropy)}


# ---------------------------------------------------------------- checkpoints of the equal-time race

RACE_SECONDS = 90  # training wall time given to each of the two VAEs of the race


def race_models() -> dict:
    """The two contestants of the equal-wall-time race, untrained: {'mlp': ..., 'conv': ...}."""
    return {"mlp": MLPVAE(latent_dim=20, hidden=400), "conv": ConvVAE(latent_dim=20, channels=(16, 32))}


RACE_SETTINGS = {"mlp": {"lr": 2e-3, "batch_size": 128, "channels_last": False},
                 "conv": {"lr": 3e-3, "batch_size": 128, "channels_last": True}}


def train_for_budget(model, kind: str, X: torch.Tensor, X_test: torch.Tensor, seconds: float, seed: int = 0) -> dict:
    """Train a race contestant for exactly ``seconds`` (``fit_for_seconds``) and measure it on ``X_test``.

    Returns plain numbers and lists (checkpoint meta): epochs (fractional), measured training seconds,
    per-epoch curves of train nelbo / rec / kl, and the test negative ELBO, reconstruction and KL in nats.
    """
    if kind not in RACE_SETTINGS:
        raise ValueError(f"Unknown contestant {kind!r}; choose one of {', '.join(RACE_SETTINGS)}.")
    records = fit_for_seconds(model, X, seconds, seed=seed, **RACE_SETTINGS[kind])
    test = negative_elbo(model, X_test)
    return {"num_epochs": round(records[-1]["epoch"], 2), "fit_seconds": round(sum(r["seconds"] for r in records), 1),
            "epochs": [round(r["epoch"], 3) for r in records], "epoch_seconds": [round(r["seconds"], 2) for r in records],
            **{f"train_{k}": [r[k] for r in records] for k in ("nelbo", "rec", "kl")},
            "test_nelbo": test["nelbo"], "test_rec": test["rec"], "test_kl": test["kl"]}


def _make_race(kind: str):
    from . import data, runtime

    runtime.seed_everything(0)
    ds = data.load_fashion_mnist(allow_subset=False)
    model = race_models()[kind]
    meta = train_for_budget(model, kind, ds.X_train, ds.X_test, RACE_SECONDS)
    return model.eval(), meta


def _make_mlp():
    return _make_race("mlp")


def _make_conv():
    return _make_race("conv")


CHECKPOINTS = {"vae_mlp": _make_mlp, "vae_conv": _make_conv}
