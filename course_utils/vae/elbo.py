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

import torch
import torch.nn.functional as F


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
