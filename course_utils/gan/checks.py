"""Chapter 04's exercise checks: call one on your answer, read "passed" or a specific hint.

Introduced in chapter 04 (exercises 04.1-04.3 at the end of 04_gan). Each check returns True/False and prints one
line; ``course_utils.checks.exercise`` turns a missing answer, ``NotImplementedError`` or any error raised while
checking into a printed hint, so a check never crashes.
"""

from __future__ import annotations

import torch
import torch.nn as nn
import torch.nn.functional as F
from torch.nn.utils import parametrize

from ..checks import attempt, exercise, report
from ..train import eval_mode
from . import evaluation


def _shape(value) -> str:
    return f"a tensor of shape {tuple(value.shape)}" if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"


@exercise("non-saturating loss")
def check_non_saturating_loss(fn) -> bool:
    """Exercise 04.1: ``fn(fake_logits)`` returns mean(-log sigmoid(logit)), finite even for very negative logits."""
    title = "non-saturating loss"
    if not callable(fn):
        return report(title, False, f"pass your function non_saturating_loss itself, not {type(fn).__name__}.")
    logits = torch.tensor([[-3.0], [-0.5], [0.0], [1.0], [4.0]])
    got, failed = attempt(title, fn, logits)
    if failed is not None:
        return failed
    want = F.softplus(-logits).mean()
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        return report(title, False, f"return one number (a 0-d tensor, the mean over the batch), got {_shape(got)}.")
    if torch.allclose(got, -F.softplus(logits).mean(), atol=1e-5):
        return report(title, False, "that is the saturating loss log(1 - D(G(z))); the non-saturating one is -log D(G(z)).")
    if torch.allclose(got, F.softplus(-logits).sum(), atol=1e-4):
        return report(title, False, "average over the batch (mean), do not sum.")
    if torch.allclose(got, -want, atol=1e-5):
        return report(title, False, "the sign is flipped: the generator *minimizes* -log D(G(z)).")
    if not torch.allclose(got, want, atol=1e-5):
        return report(title, False, f"for logits {logits.flatten().tolist()} expected {want.item():.4f}, got {float(got):.4f}; "
                                    "D(G(z)) is sigmoid(logit).")
    extreme, failed = attempt(title, fn, torch.tensor([[-200.0], [0.0]]))
    if failed is not None:
        return failed
    if not torch.isfinite(extreme).all() or abs(float(extreme) - F.softplus(torch.tensor([200.0, 0.0])).mean().item()) > 1e-3:
        return report(title, False, "right for ordinary logits, but not finite at logit -200: sigmoid rounds to 0 and its log "
                                    "to -inf; use F.softplus(-logit) or F.logsigmoid(logit).")
    logits = torch.randn(6, 1, requires_grad=True)
    value, failed = attempt(title, fn, logits)
    if failed is not None:
        return failed
    if not value.requires_grad:
        return report(title, False, "the result has no gradient; compute it with torch operations on the logits.")
    return report(title, True, "mean of -log sigmoid(logit), stable at logit -200, and differentiable.")


@exercise("rescued toy GAN")
def check_toy_gan_coverage(G, num_samples: int = 2000) -> bool:
    """Exercise 04.2: a toy generator whose samples cover all 8 modes of the chapter's ring (radius 2, std 0.05)."""
    title = "rescued toy GAN"
    if not (isinstance(G, nn.Module) and isinstance(getattr(G, "latent_dim", None), int)):
        return report(title, False, "pass the generator itself (e.g. rescued.G), an nn.Module with an attribute latent_dim.")
    z = torch.randn(num_samples, G.latent_dim, generator=torch.Generator().manual_seed(0))
    with eval_mode(G):
        points, failed = attempt(title, G, z.to(next(G.parameters(), z).device))
    if failed is not None:
        return failed
    if not isinstance(points, torch.Tensor) or tuple(points.shape) != (num_samples, 2):
        return report(title, False, f"the generator must map z to 2-D points ({num_samples}, 2), got {_shape(points)}.")
    if not torch.isfinite(points).all():
        return report(title, False, "some generated points are NaN or infinite: the training diverged; lower the learning rates.")
    count = evaluation.count_modes(points.cpu(), evaluation.ring_centers(8, 2.0), max_dist=3 * 0.05)
    if count.covered <= 2:
        return report(title, False, f"still collapsed: {count}. Let D keep up with G: a larger lr_d, or d_steps > 1.")
    if count.covered < 8:
        return report(title, False, f"better, but {count}; train longer or give D a little more (lr_d or d_steps).")
    if count.quality < 0.5:
        return report(title, False, f"all modes reached, but only {count.quality:.0%} of the samples lie near one; train longer.")
    return report(title, True, f"{count}.")


@exercise("spectral-norm discriminator")
def check_spectral_discriminator(model: nn.Module) -> bool:
    """Exercise 04.3: a discriminator whose every conv/linear weight is spectrally normalized, without batch norm."""
    title = "spectral-norm discriminator"
    if not isinstance(model, nn.Module):
        return report(title, False, f"pass the model (an nn.Module, e.g. sn_discriminator(32)), not {type(model).__name__}.")
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    if len(layers) < 3:
        return report(title, False, f"found {len(layers)} conv/linear layer(s); the discriminator has two convs and a linear layer.")
    if any(hasattr(m, "weight_orig") for m in layers):
        return report(title, False, "that is the older torch.nn.utils.spectral_norm (a hook); use "
                                    "torch.nn.utils.parametrizations.spectral_norm(layer).")
    plain = [type(m).__name__ for m in layers if not parametrize.is_parametrized(m, "weight")]
    if plain:
        return report(title, False, f"{len(plain)} layer(s) ({', '.join(plain)}) have no spectral norm; wrap each with "
                                    "torch.nn.utils.parametrizations.spectral_norm(layer).")
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    if norms:
        return report(title, False, "remove the batch norm: spectral normalization replaces it in the discriminator.")
    was_training = model.training
    model.train()  # each training-mode pass refines the power iteration
    try:
        with torch.no_grad():
            for _ in range(15):
                out, failed = attempt(title, model, torch.randn(4, 1, 28, 28))
                if failed is not None:
                    return failed
    finally:
        model.train(was_training)
    if not isinstance(out, torch.Tensor) or tuple(out.shape) != (4, 1):
        return report(title, False, f"a batch of 4 images must give 4 logits shaped (4, 1), got {_shape(out)}.")
    sigmas = [torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item() for m in layers]
    if max(sigmas) > 1.05 or min(sigmas) < 0.9:
        return report(title, False, f"largest singular values {[round(s, 2) for s in sigmas]}; each should be about 1 "
                                    "(is every parametrization a spectral norm?).")
    return report(title, True, f"{len(layers)} spectrally normalized layers, no batch norm, largest singular values "
                               f"{', '.join(f'{s:.2f}' for s in sigmas)}.")
