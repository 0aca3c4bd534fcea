"""Chapter 06's objective: the Gaussian KL, reparameterization, the ELBO as a ``train.fit`` step, and its measures.

Introduced in chapter 06: ``gaussian_kl`` is derived and shown in 06_vae §2 (checked against a Monte-Carlo
estimate in the cell after), ``reparameterize`` in §3 (its gradients checked in the cell after), ``vae_step``
in §4; ``kl_per_dimension``/``active_dimensions`` measure posterior collapse in §10, ``vq_step`` and
``codebook_usage`` train and measure the VQ-VAE of §12; ``iwae_bound`` (a tighter bound on log p(x)) and
``gaussian_kl_between`` (two arbitrary diagonal Gaussians) serve §2 and the exercises. Losses are in nats per image: binary cross-entropy
summed over the 784 pixels plus the KL summed over the latent dimensions.
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import train


def _check_vae(model, fn: str) -> None:
    """``model`` must be an unconditional VAE: ``encode(x) -> (mu, logvar)`` and ``decode_logits(z)``."""
    if not (isinstance(model, torch.nn.Module) and callable(getattr(model, "encode", None))
            and callable(getattr(model, "decode_logits", None))):
        raise TypeError(f"model must be a VAE (an nn.Module with encode and decode_logits, e.g. models.MLPVAE), got "
                        f"{type(model).__name__}.")
    if getattr(model, "num_classes", None) is not None:  # a conditional VAE (models.CVAE; elbo cannot import models)
        raise TypeError(f"model is a CVAE, whose encode also needs the labels; {fn} scores unconditional VAEs (MLPVAE, ConvVAE).")


# ---------------------------------------------------------------- the two formulas of a VAE

def gaussian_kl(mu: torch.Tensor, logvar: torch.Tensor) -> torch.Tensor:
    """KL( N(mu, exp(logvar)) || N(0, 1) ) for each dimension, same shape as ``mu`` (sum it over dimensions).

    Closed form: 0.5 * (mu² + σ² - 1 - log σ²).
    """
    if not (torch.is_tensor(mu) and torch.is_tensor(logvar) and mu.shape == logvar.shape):
        raise ValueError("mu and logvar must be tensors of the same shape (one mean and log-variance per dimension).")
    return 0.5 * (mu.pow(2) + logvar.exp() - 1.0 - logvar)


def reparameterize(mu: torch.Tensor, logvar: torch.Tensor, generator: torch.Generator | None = None) -> torch.Tensor:
    """A sample z = mu + σ ⊙ ε with ε ~ N(0, I): random, yet differentiable in mu and logvar."""
    if not (torch.is_tensor(mu) and torch.is_tensor(logvar) and mu.shape == logvar.shape):
        raise ValueError("mu and logvar must be tensors of the same shape (one mean and log-variance per dimension).")
    eps = torch.randn(mu.shape, generator=generator, dtype=mu.dtype).to(mu.device)
    return mu + torch.exp(0.5 * logvar) * eps


# ---------------------------------------------------------------- the ELBO as a train.fit step

def elbo_terms(logits: torch.Tensor, x: torch.Tensor, mu: torch.Tensor, logvar: torch.Tensor):
    """Per-image reconstruction (B,) = BCE summed over pixels, and per-dimension KL (B, latent_dim), in nats."""
    if not (torch.is_tensor(logits) and torch.is_tensor(x) and logits.shape == x.shape):
        raise ValueError(f"logits and the images x must be tensors of the same shape, got {getattr(logits, 'shape', type(logits).__name__)} and {getattr(x, 'shape', type(x).__name__)}.")
    rec = F.binary_cross_entropy_with_logits(logits, x, reduction="none").flatten(1).sum(1)
    return rec, gaussian_kl(mu, logvar)


def vae_step(beta: float = 1.0, anneal_steps: int = 0, free_bits: float = 0.0, conditional: bool = False):
    """A ``train.fit`` step for VAEs on batches ``(x, ...)`` (``(x, y)`` when ``conditional``).

    Minimizes rec + weight * KL per image, where weight = beta, ramped linearly from 0 over the first
    ``anneal_steps`` training steps (KL annealing). With ``free_bits`` = λ > 0 each dimension's batch-mean KL
    below λ nats is not penalized: the KL term becomes Σ_j max(λ, KL_j). Returns per-image averages:
    'loss' (the objective), 'nelbo' (= rec + kl, the true negative ELBO), 'rec', 'kl', and 'kl_weight'.
    """
    if not (isinstance(anneal_steps, int) and anneal_steps >= 0 and all(isinstance(v, int | float) and v >= 0 for v in (beta, free_bits))):
        raise ValueError(f"beta and free_bits must be numbers >= 0 and anneal_steps an int >= 0, got {beta!r}, {free_bits!r}, {anneal_steps!r}.")
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


@torch.no_grad()
def negative_elbo(model, X: torch.Tensor, y: torch.Tensor | None = None, batch_size: int = 1000, seed: int = 0) -> dict:
    """Test-set negative ELBO in nats per image (one z sample per image, seeded): {'nelbo', 'rec', 'kl'}.

    Runs in eval mode (the model's mode comes back afterwards); ``y`` holds the labels of a conditional VAE.
    """
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be float images shaped (B, 1, 28, 28) with pixels in [0, 1] (pixels in 0..255: divide by 255).")
    if y is not None and not (torch.is_tensor(y) and y.dtype == torch.long and y.shape == (len(X),)):
        raise ValueError(f"y must be one torch.long label per image of X, shape ({len(X)},), got {getattr(y, 'shape', type(y).__name__)}.")
    if not (isinstance(batch_size, int) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)  # one stream of noise across all batches
    rec_sum, kl_sum = 0.0, 0.0
    with train.eval_mode(model):
        for i in range(0, len(X), batch_size):
            x = X[i:i + batch_size].to(device)
            extra = () if y is None else (y[i:i + batch_size].to(device),)
            mu, logvar = model.encode(x, *extra)
            logits = model.decode_logits(reparameterize(mu, logvar, g), *extra)
            rec, kl_dims = elbo_terms(logits, x, mu, logvar)
            rec_sum, kl_sum = rec_sum + rec.sum().item(), kl_sum + kl_dims.sum().item()  # sums over images
    return {"nelbo": (rec_sum + kl_sum) / len(X), "rec": rec_sum / len(X), "kl": kl_sum / len(X)}


def gaussian_kl_between(mu_q: torch.Tensor, logvar_q: torch.Tensor, mu_p: torch.Tensor, logvar_p: torch.Tensor) -> torch.Tensor:
    """KL( N(mu_q, exp(logvar_q)) || N(mu_p, exp(logvar_p)) ) for each dimension (the prior need not be N(0, 1)).

    Closed form: 0.5 * (log σp² - log σq² + (σq² + (mu_q - mu_p)²) / σp² - 1); with mu_p = 0, logvar_p = 0 it is
    ``gaussian_kl``.
    """
    if not all(torch.is_tensor(t) for t in (mu_q, logvar_q, mu_p, logvar_p)) or not (
            mu_q.shape == logvar_q.shape == mu_p.shape == logvar_p.shape):
        raise ValueError("mu_q, logvar_q, mu_p and logvar_p must be tensors of one shape (one mean and log-variance per dimension).")
    for name, t in (("mu_q", mu_q), ("logvar_q", logvar_q), ("mu_p", mu_p), ("logvar_p", logvar_p)):
        if not (t.is_floating_point() and t.numel() and torch.isfinite(t).all()):
            raise ValueError(f"{name} must be a non-empty float tensor of finite values, got {t.dtype} {tuple(t.shape)}"
                             f"{' with NaN or inf' if t.is_floating_point() and t.numel() else ''}.")
    return 0.5 * (logvar_p - logvar_q + (logvar_q.exp() + (mu_q - mu_p).pow(2)) / logvar_p.exp() - 1.0)


@torch.no_grad()
def iwae_bound(model, X: torch.Tensor, k: int = 100, batch_size: int = 100, seed: int = 0) -> dict:
    """The importance-weighted bound (Burda et al., 2016) on log p(x), as a negative log-likelihood in nats per image.

    For each image, k codes z_i ~ q(z|x) give weights w_i = p(x|z_i) p(z_i) / q(z_i|x), and
    log p(x) >= E[log (1/k) sum_i w_i]; k = 1 is the ELBO, and the bound tightens as k grows. Vectorised: the
    k samples of a batch are decoded at once. Returns {'nll': -mean bound, 'per_image': (N,) tensor, 'k': k}.
    """
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be float images shaped (B, 1, 28, 28) with pixels in [0, 1] (pixels in 0..255: divide by 255).")
    _check_vae(model, "iwae_bound")
    if not (isinstance(k, int) and not isinstance(k, bool) and k > 0):
        raise ValueError(f"k (importance samples per image) must be a positive int, got {k!r}.")
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    if not (isinstance(seed, int) and not isinstance(seed, bool) and seed >= 0):
        raise ValueError(f"seed must be an int >= 0, got {seed!r}.")
    device = next(model.parameters()).device
    g = torch.Generator().manual_seed(seed)
    half_log_2pi = 0.5 * math.log(2 * math.pi)
    bounds = []
    with train.eval_mode(model):
        for i in range(0, len(X), batch_size):
            x = X[i:i + batch_size].to(device)                                   # (B, 1, 28, 28)
            mu, logvar = model.encode(x)                                         # (B, D) each
            eps = torch.randn((k, *mu.shape), generator=g, dtype=mu.dtype).to(device)  # (k, B, D)
            z = mu + (0.5 * logvar).exp() * eps                                  # (k, B, D)
            logits = model.decode_logits(z.flatten(0, 1))                        # (k*B, 1, 28, 28)
            log_px_z = -F.binary_cross_entropy_with_logits(
                logits, x.repeat(k, 1, 1, 1), reduction="none").flatten(1).sum(1).view(k, -1)  # (k, B)
            log_pz = (-0.5 * z.pow(2) - half_log_2pi).sum(2)                      # (k, B)
            log_qz = (-0.5 * eps.pow(2) - 0.5 * logvar - half_log_2pi).sum(2)     # (k, B)
            bounds.append(torch.logsumexp(log_px_z + log_pz - log_qz, 0) - math.log(k))  # (B,)
    per_image = -torch.cat(bounds).cpu()
    return {"nll": per_image.mean().item(), "per_image": per_image, "k": k}


@torch.no_grad()
def kl_per_dimension(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Average KL of each latent dimension over the images ``X``, in nats: shape (latent_dim,).

    A dimension whose KL is near 0 has a posterior equal to the prior for every image: it carries no
    information about x (it has *collapsed*).
    """
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be float images shaped (B, 1, 28, 28) with pixels in [0, 1] (pixels in 0..255: divide by 255).")
    _check_vae(model, "kl_per_dimension")
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    device = next(model.parameters()).device
    mus, logvars = [], []
    with train.eval_mode(model):
        for i in range(0, len(X), batch_size):
            mu, logvar = model.encode(X[i:i + batch_size].to(device))
            mus.append(mu)
            logvars.append(logvar)
    return gaussian_kl(torch.cat(mus), torch.cat(logvars)).mean(0).cpu()


@torch.no_grad()
def posterior_mean_variance(model, X: torch.Tensor, batch_size: int = 1000) -> torch.Tensor:
    """Burda et al.'s activity statistic: the variance over the images ``X`` of each posterior mean, shape (latent_dim,).

    A dimension is an *active unit* when Var_x(E_q[z_j | x]) > 0.01: its mean moves with the image. A collapsed
    dimension has the same mean (0) for every image, hence variance ~0.
    """
    if not (torch.is_tensor(X) and X.is_floating_point() and X.shape[1:] == (1, 28, 28) and len(X) > 1 and 0 <= X.min() <= X.max() <= 1):
        raise ValueError("X must be at least 2 float images shaped (B, 1, 28, 28) with pixels in [0, 1].")
    _check_vae(model, "posterior_mean_variance")
    if not (isinstance(batch_size, int) and not isinstance(batch_size, bool) and batch_size > 0):
        raise ValueError(f"batch_size must be a positive int, got {batch_size!r}.")
    device = next(model.parameters()).device
    with train.eval_mode(model):
        mus = torch.cat([model.encode(X[i:i + batch_size].to(device))[0] for i in range(0, len(X), batch_size)])
    return mus.var(0).cpu()


def active_dimensions(kl_dims: torch.Tensor, threshold: float = 0.01) -> int:
    """Number of latent dimensions whose average KL exceeds ``threshold`` nats."""
    if not (torch.is_tensor(kl_dims) and kl_dims.dim() == 1):
        raise ValueError(f"kl_dims must be the 1-D tensor returned by kl_per_dimension, got {getattr(kl_dims, 'shape', type(kl_dims).__name__)}.")
    if not (isinstance(threshold, int | float) and threshold >= 0):
        raise ValueError(f"threshold must be a number of nats >= 0, got {threshold!r}.")
    return int((kl_dims > threshold).sum())


def vq_step(commitment: float = 0.25):
    """A ``train.fit`` step for a VQVAE: mean per-pixel BCE + codebook loss + commitment * commitment loss."""
    if not (isinstance(commitment, int | float) and commitment >= 0):
        raise ValueError(f"commitment must be a number >= 0, got {commitment!r}.")

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
    if not (isinstance(num_codes, int) and num_codes > 0):
        raise ValueError(f"num_codes must be a positive int, got {num_codes!r}.")
    idx = torch.as_tensor(indices).flatten()
    if idx.numel() == 0 or idx.is_floating_point() or idx.min() < 0 or idx.max() >= num_codes:
        raise ValueError(f"indices must be a non-empty set of integer code numbers in [0, {num_codes}).")
    idx = idx.long()
    p = torch.bincount(idx, minlength=num_codes).double() / idx.numel()
    entropy = -(p[p > 0] * p[p > 0].log()).sum().item()
    used = int((p > 0).sum())
    return {"used": used, "fraction": used / num_codes, "perplexity": math.exp(entropy)}
