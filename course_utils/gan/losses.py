"""The GAN losses: a discriminator's on *logits*, a Wasserstein critic's on *scores*, and the gradient penalty.

Introduced in chapter 04. ``discriminator_loss`` is written out in 04_gan §1 (``d_loss_from_logits``, asserted
equal in the cell after it); §2 plots the gradients of both ``generator_loss`` kinds; §6 shows
``gradient_penalty`` with ``show_source``. ``training.gan_step`` and ``training.wgan_gp_step`` use them.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F

GENERATOR_LOSSES = ("saturating", "non_saturating")


def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(D, G) = -E[log D(x)] - E[log(1 - D(G(z)))], from D's logits (D = sigmoid(logit)).

    D maximizes the minimax value V, so it minimizes this binary cross-entropy: real -> 1, fake -> 0. Each
    expectation is a mean over its own batch, so real and fake batches may differ in size.
    """
    for name, value in (("real_logits", real_logits), ("fake_logits", fake_logits)):
        if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
            raise TypeError(f"{name} must be a float tensor of D's logits, not {type(value).__name__}.")
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """G's loss from D's logits on fakes.

    'saturating' (the minimax game): minimize E[log(1 - D(G(z)))] = -E[softplus(logit)].
    'non_saturating' (what everyone uses): minimize -E[log D(G(z))] = E[softplus(-logit)].
    """
    if kind not in GENERATOR_LOSSES:
        raise ValueError(f"kind must be 'saturating' or 'non_saturating' (the generator loss), not {kind!r}.")
    if not (isinstance(fake_logits, torch.Tensor) and fake_logits.is_floating_point()):
        raise TypeError(f"fake_logits must be a float tensor of D's logits, not {type(fake_logits).__name__}.")
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN critic: minimize E[f(G(z))] - E[f(x)], i.e. score real data high and fakes low (no sigmoid)."""
    for name, value in (("real_scores", real_scores), ("fake_scores", fake_scores)):
        if not (isinstance(value, torch.Tensor) and value.is_floating_point()):
            raise TypeError(f"{name} must be a float tensor of critic scores, not {type(value).__name__}.")
    return fake_scores.mean() - real_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E[(||grad_x f(x_hat)|| - 1)^2] at random points x_hat on lines between real and fake samples."""
    assert real.shape == fake.shape, f"real and fake differ in shape: {tuple(real.shape)} vs {tuple(fake.shape)}"
    alpha = torch.rand(len(real), *[1] * (real.dim() - 1), device=real.device)  # one mixing weight per sample
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # keep the graph: the penalty is trained
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()  # one gradient norm per sample, averaged over the batch
