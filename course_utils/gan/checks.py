"""Chapter 04's exercise checks: call one on your answer, read "passed" or a specific hint.

Introduced in chapter 04 (exercises 04.1-04.3 at the end of 04_gan: the non-saturating loss, the R1 gradient penalty,
the Fréchet floor against the sample size; the toy-ring and spectral-norm checks served earlier versions). Each check returns True/False and prints one
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


class _Quadratic(nn.Module):
    """f(x) = ½ |x|² per sample (plus a learnable scale ``a``): its input gradient is a * x, known exactly."""

    def __init__(self):
        super().__init__()
        self.a = nn.Parameter(torch.tensor(1.0))

    def forward(self, x):
        return 0.5 * self.a * x.flatten(1).pow(2).sum(1, keepdim=True)


@exercise("R1 gradient penalty")
def check_r1_penalty(fn) -> bool:
    """Exercise 04.2: ``fn(D, real)`` = mean over the batch of |grad_x D(x)|², at the real samples, differentiable in D."""
    title = "R1 gradient penalty"
    if not callable(fn):
        return report(title, False, f"pass your function r1_penalty itself, not {type(fn).__name__}.")
    torch.manual_seed(0)
    linear = nn.Linear(5, 1)
    real = torch.randn(8, 5)
    w2 = linear.weight.detach().pow(2).sum()
    got, failed = attempt(title, fn, linear, real.clone())
    if failed is not None:
        return failed
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        return report(title, False, f"return one number (a 0-d tensor, the mean over the batch), got {_shape(got)}.")
    value = got.detach().float()
    if torch.allclose(value, w2.sqrt(), atol=1e-4):
        return report(title, False, "that is the gradient norm |grad|; R1 uses its square, |grad|².")
    if torch.allclose(value, len(real) * w2, atol=1e-3):
        return report(title, False, "average over the batch (mean of one squared norm per sample), do not sum, and do not take "
                                    "one norm of the whole batch's gradient.")
    if not torch.allclose(value, w2, atol=1e-4):
        return report(title, False, f"for a linear D(x) = w·x + b every gradient is w, so the penalty is |w|² = {w2.item():.4f}; "
                                    f"got {value.item():.4f}.")
    if not got.requires_grad:
        return report(title, False, "the penalty has no gradient with respect to D's weights, so training could not reduce it: "
                                    "call torch.autograd.grad(..., create_graph=True).")
    (g,) = torch.autograd.grad(got, linear.weight, allow_unused=True)
    if g is None or not torch.allclose(g, 2 * linear.weight.detach(), atol=1e-4):
        return report(title, False, "the penalty's gradient with respect to D's weights is wrong; keep the graph of the input "
                                    "gradient (create_graph=True) and do not detach it.")
    quad = _Quadratic()
    x = torch.randn(16, 1, 4, 4)
    got, failed = attempt(title, fn, quad, x.clone())
    if failed is not None:
        return failed
    want = x.flatten(1).pow(2).sum(1).mean()
    if not torch.allclose(got.detach().float(), want, atol=1e-4):
        return report(title, False, f"for D(x) = ½|x|² on images the gradient is x itself, so the penalty is mean |x|² = "
                                    f"{want.item():.4f}; got {float(got.detach()):.4f}. Take one norm per sample over all its pixels "
                                    "(flatten(1)), at the real images themselves.")
    return report(title, True, "mean squared input-gradient norm at the real samples, with a graph that reaches D's weights.")


@exercise("Fréchet floor")
def check_frechet_floor(fn) -> bool:
    """Exercise 04.3: ``fn(features, n)`` = Fréchet distance between rows [0, n) and [n, 2n); refuses 2n > len(features)."""
    title = "Fréchet floor"
    if not callable(fn):
        return report(title, False, f"pass your function frechet_floor itself, not {type(fn).__name__}.")
    g = torch.Generator().manual_seed(0)
    feats = torch.randn(600, 6, generator=g) @ torch.randn(6, 6, generator=g) + torch.arange(600.0)[:, None] / 300
    for n in (50, 300):
        got, failed = attempt(title, fn, feats, n)
        if failed is not None:
            return failed
        try:
            got = float(got)
        except (TypeError, ValueError):
            return report(title, False, f"return one number (a float), got {_shape(got)}.")
        want = evaluation.frechet_distance(feats[:n], feats[n:2 * n])
        if abs(got) < 1e-6:
            return report(title, False, "got 0: both halves are the same rows; take rows [0, n) and [n, 2n).")
        if abs(got - evaluation.frechet_distance(feats[: n // 2], feats[n // 2 : n])) < 1e-6 * max(1, abs(got)):
            return report(title, False, "each half must hold n samples (rows [0, n) and [n, 2n)), not n / 2.")
        if abs(got - want) > 1e-6 * max(1.0, want):
            return report(title, False, f"for n = {n} expected the distance between rows [0, {n}) and [{n}, {2 * n}), "
                                        f"{want:.4f}; got {got:.4f} (use evaluation.frechet_distance).")
    try:
        fn(feats, 301)
    except ValueError:
        pass
    except Exception as err:  # noqa: BLE001 - a wrong kind of refusal is a hint too
        return report(title, False, f"n = 301 of 600 rows should raise ValueError (the halves would overlap), not "
                                    f"{type(err).__name__}.")
    else:
        return report(title, False, "n = 301 of 600 rows leaves no room for two disjoint halves: raise a ValueError that says so.")
    return report(title, True, "distance between two disjoint halves of n samples, and a clear refusal when 2n is too many.")
