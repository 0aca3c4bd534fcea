"""Chapter 06's exercise checks (06_vae, Exercises 1-4): call one on your answer, read "passed" or a specific hint.

Introduced in chapter 06. Each check compares the answer with the reference (``elbo.gaussian_kl``, the target
distribution, ``models.CVAE``'s contract, the nearest codebook row) and names the usual mistakes; the harness
``course_utils.checks.exercise`` turns a missing answer, a wrong type or shape, or an error inside the learner's
code into a printed hint, so a check never crashes.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..checks import exercise, report


def _kl_reference(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def _shape(value) -> str:
    return str(tuple(value.shape)) if isinstance(value, torch.Tensor) else f"a {type(value).__name__}"


@exercise("Gaussian KL")
def check_gaussian_kl(fn) -> bool:
    """Exercise 06.1: ``fn(mu, logvar)`` is KL(N(mu, exp(logvar)) || N(0, 1)) element by element."""
    title = "Gaussian KL"
    zero = fn(torch.zeros(3), torch.zeros(3))
    if not isinstance(zero, torch.Tensor) or zero.shape != (3,):
        return report(title, False, f"return one KL per element (a tensor shaped like mu, here (3,)), got {_shape(zero)}; do not sum.")
    if not torch.allclose(zero, torch.zeros(3), atol=1e-6):
        return report(title, False, f"the KL of N(0, 1) to itself must be 0, got {zero.tolist()}; check the -1 and -logvar terms.")
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    got = fn(mu, logvar)
    if not isinstance(got, torch.Tensor) or got.shape != mu.shape:
        return report(title, False, f"return one KL per element (shaped like mu, here (5, 4)), got {_shape(got)}.")
    want = _kl_reference(mu, logvar)
    if torch.allclose(got, 2 * want, atol=1e-4):
        return report(title, False, "twice the right value: the closed form has a factor 1/2.")
    if torch.allclose(got, 0.5 * (mu**2 + logvar.exp() ** 2 - 1 - 2 * logvar), atol=1e-4):
        return report(title, False, "logvar is log(sigma^2): sigma^2 = exp(logvar), not exp(logvar)^2.")
    if not torch.allclose(got, want, atol=1e-4):
        return report(title, False, "values differ from 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2) with sigma^2 = exp(logvar).")
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    z = q.sample((20000,))
    mc = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).mean(0)
    err = (mc - got).abs().max().item()
    return report(title, True, f"0 at the prior, and within {err:.3f} nats of a 20,000-sample Monte-Carlo estimate everywhere.")


@exercise("reparameterize")
def check_reparameterize(fn) -> bool:
    """Exercise 06.2: ``fn(mu, logvar)`` samples N(mu, exp(logvar)) differentiably in mu and logvar."""
    title = "reparameterize"
    torch.manual_seed(0)
    mu = torch.full((50000,), 2.0, requires_grad=True)
    logvar = torch.full((50000,), torch.tensor(0.25).log().item(), requires_grad=True)
    z = fn(mu, logvar)
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        return report(title, False, f"return one sample per element, shape {tuple(mu.shape)}; got {_shape(z)}.")
    mean, std = z.mean().item(), z.std().item()
    if std < 1e-6:
        return report(title, False, "every element got the same noise: draw one eps per element, e.g. torch.randn_like(mu).")
    if abs(mean - 2) > 0.02:
        return report(title, False, f"the samples' mean is {mean:.2f}, not mu = 2; add mu.")
    if abs(std - 0.25) < 0.02:
        return report(title, False, "the samples' spread is sigma^2 = 0.25, not sigma = 0.5: use exp(0.5 * logvar).")
    if abs(std - 0.5) > 0.02:
        return report(title, False, f"the samples' standard deviation is {std:.2f}, expected sigma = exp(0.5 * logvar) = 0.5.")
    inside = ((z.detach() - 2).abs() < 0.5).float().mean().item()
    if abs(inside - 0.6827) > 0.01:
        return report(title, False, f"{inside:.1%} of the samples lie within one sigma of mu, not 68.3%: eps must be standard normal.")
    if not z.requires_grad:
        return report(title, False, "the sample is cut off from mu and logvar; draw eps ~ N(0, 1) and return mu + sigma * eps.")
    z.pow(2).mean().backward()
    g_mu = 0.0 if mu.grad is None else mu.grad.sum().item()
    g_lv = 0.0 if logvar.grad is None else logvar.grad.sum().item()
    if abs(g_mu - 4) > 0.1 or abs(g_lv - 0.25) > 0.03:
        return report(title, False, f"gradients of E[z^2] should be 2 mu = 4 and sigma^2 = 0.25, got {g_mu:.2f} and {g_lv:.2f}.")
    return report(title, True, f"mean {mean:.2f}, std {std:.2f}, and the gradients of E[z^2] reach mu ({g_mu:.2f}) and logvar ({g_lv:.2f}).")


@exercise("conditional VAE")
def check_cvae(model: nn.Module) -> bool:
    """Exercise 06.3: a conditional VAE whose encoder and decoder both depend on the label."""
    title = "conditional VAE"
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}` taking the label as second argument.")
    model.eval()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28, generator=g), torch.tensor([0, 3, 5, 9])
    with torch.no_grad():
        stats = model.encode(x, y)
        if not (isinstance(stats, tuple | list) and len(stats) == 2 and all(isinstance(s, torch.Tensor) for s in stats)
                and stats[0].shape == stats[1].shape and stats[0].dim() == 2 and len(stats[0]) == 4):
            return report(title, False, "encode(x, y) must return (mu, logvar), two tensors of shape (B, latent_dim).")
        mu, _ = stats
        z = torch.randn(mu.shape, generator=g)
        out = model.decode(z, y)
        if not isinstance(out, torch.Tensor) or tuple(out.shape) != (4, 1, 28, 28):
            return report(title, False, f"decode(z, y) must give images (4, 1, 28, 28), got {_shape(out)}.")
        if out.min() < 0 or out.max() > 1:
            return report(title, False, "decode must return probabilities in [0, 1]: apply a sigmoid to the logits.")
        if callable(getattr(model, "decode_logits", None)) and not torch.allclose(out, torch.sigmoid(model.decode_logits(z, y)), atol=1e-5):
            return report(title, False, "decode(z, y) must be sigmoid(decode_logits(z, y)), the pixel probabilities.")
        changed = (model.decode(z, (y + 1) % 10) - out).abs().max().item()
        label_moves_code = not torch.allclose(model.encode(x, (y + 1) % 10)[0], mu, atol=1e-6)
        image_moves_code = not torch.allclose(model.encode(x.flip(0), y)[0], mu, atol=1e-6)
        code_moves_image = not torch.allclose(model.decode(torch.randn(mu.shape, generator=g), y), out, atol=1e-6)
    if changed < 1e-6:
        return report(title, False, "changing the label does not change the decoded image; feed y into the decoder.")
    if not label_moves_code:
        return report(title, False, "the encoder ignores the label; q(z | x, y) should see y too.")
    if not image_moves_code:
        return report(title, False, "the encoder ignores the image: mu must depend on x (concatenate the flattened x).")
    if not code_moves_image:
        return report(title, False, "the decoder ignores the code z; p(x | z, y) must use both.")
    return report(title, True, f"encode(x, y) and decode(z, y) both use the label (same z, other label: pixels move by up to {changed:.2f}).")


@exercise("vector quantizer")
def check_vector_quantizer(fn) -> bool:
    """Exercise 06.4: ``fn(z_e, codebook) -> (z_q, indices)``: nearest codebook row, straight-through gradient."""
    title = "vector quantizer"
    g = torch.Generator().manual_seed(0)
    codebook = torch.randn(12, 5, generator=g).requires_grad_()
    z_e = torch.randn(30, 5, generator=g).requires_grad_()
    out = fn(z_e, codebook)
    if not (isinstance(out, tuple | list) and len(out) == 2):
        return report(title, False, f"return a pair (z_q, indices), got {_shape(out)}.")
    z_q, indices = out
    want = torch.cdist(z_e.detach(), codebook.detach()).argmin(1)
    if not isinstance(indices, torch.Tensor) or indices.shape != (30,) or indices.is_floating_point():
        return report(title, False, f"indices must be an integer tensor with one code number per vector, shape (30,); got {_shape(indices)}.")
    if not torch.equal(indices.long(), want):
        far = torch.cdist(z_e.detach(), codebook.detach()).argmax(1)
        hint = "you picked the farthest row: take argmin of the distances." if torch.equal(indices.long(), far) else \
            "each index must be the row of the codebook closest in Euclidean distance."
        return report(title, False, f"wrong nearest neighbours for {(indices.long() != want).sum().item()} of 30 vectors; {hint}")
    if not isinstance(z_q, torch.Tensor) or z_q.shape != z_e.shape or not torch.allclose(z_q, codebook[want], atol=1e-5):
        return report(title, False, "z_q must equal the chosen codebook rows in the forward pass, shaped like z_e.")
    if not z_q.requires_grad:
        return report(title, False, "z_q carries no gradient; return z_e + (z_q - z_e).detach().")
    z_q.sum().backward()
    if z_e.grad is None or not torch.allclose(z_e.grad, torch.ones_like(z_e)):
        return report(title, False, "the gradient must pass straight through to z_e unchanged; use z_e + (z_q - z_e).detach().")
    if codebook.grad is not None and codebook.grad.abs().sum() > 0:
        return report(title, False, "the codebook receives gradient through z_q; detach it (it learns from the codebook loss).")
    return report(title, True, "nearest neighbours right, forward values are codebook rows, gradient straight through to z_e only.")


def _kl_between_reference(mq, lq, mp, lp):
    return 0.5 * (lp - lq + (lq.exp() + (mq - mp) ** 2) / lp.exp() - 1)


@exercise("KL between two Gaussians")
def check_kl_between(fn) -> bool:
    """Exercise 06.1: ``fn(mu_q, logvar_q, mu_p, logvar_p)`` is KL(q || p) element by element, any Gaussian p."""
    title = "KL between two Gaussians"
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn(6, 3, generator=g) for _ in range(4))
    got = fn(mq, lq, mp, lp)
    if not isinstance(got, torch.Tensor) or got.shape != mq.shape:
        return report(title, False, f"return one KL per element (a tensor shaped like mu_q, here (6, 3)), got {_shape(got)}; do not sum.")
    want = _kl_between_reference(mq, lq, mp, lp)
    if torch.allclose(got, want, atol=1e-4):
        same = fn(mq, lq, mq, lq)
        if not torch.allclose(same, torch.zeros_like(same), atol=1e-5):
            return report(title, False, "KL(q || q) must be 0; check the constant -1 term.")
        return report(title, True, "matches the closed form everywhere, 0 for q = p, and reduces to the N(0, 1) case.")
    if torch.allclose(got, _kl_between_reference(mp, lp, mq, lq), atol=1e-4):
        return report(title, False, "you computed KL(p || q): the KL is not symmetric; the expectation is under q.")
    if torch.allclose(got, 0.5 * (mq**2 + lq.exp() - 1 - lq), atol=1e-4):
        return report(title, False, "this is the KL to N(0, 1): the prior's mean and variance must enter (mu_p, exp(logvar_p)).")
    if torch.allclose(got, 0.5 * (lp - lq + lq.exp() + (mq - mp) ** 2 - 1), atol=1e-4):
        return report(title, False, "divide sigma_q^2 + (mu_q - mu_p)^2 by the prior's variance sigma_p^2 = exp(logvar_p).")
    if torch.allclose(got, 2 * want, atol=1e-4):
        return report(title, False, "twice the right value: the closed form has a factor 1/2.")
    return report(title, False, "values differ from 0.5 * (log sp^2 - log sq^2 + (sq^2 + (mu_q - mu_p)^2) / sp^2 - 1).")


class _ZBlind(nn.Module):
    """A VAE whose decoder ignores z: log p(x) = -BCE(x, logit) exactly; q(z|x) = N(mu, exp(logvar)) fixed."""

    def __init__(self, mu: float, logvar: float, latent_dim: int = 3):
        super().__init__()
        self.logit = nn.Parameter(torch.linspace(-2, 2, 784).view(1, 1, 28, 28))
        self.mu, self.logvar, self.latent_dim = mu, logvar, latent_dim

    def encode(self, x):
        return torch.full((len(x), self.latent_dim), self.mu), torch.full((len(x), self.latent_dim), self.logvar)

    def decode_logits(self, z):
        return self.logit.expand(len(z), 1, 28, 28)


@exercise("importance-weighted bound")
def check_iwae(fn) -> bool:
    """Exercise 06.2: ``fn(model, x, k)`` returns the IWAE lower bound on log p(x), one value per image (B,)."""
    import math

    import torch.nn.functional as F

    title = "importance-weighted bound"
    x = torch.rand(5, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    exact_model = _ZBlind(0.0, 0.0)  # q = prior = posterior: every weight equals p(x)
    log_px = -F.binary_cross_entropy_with_logits(exact_model.logit.expand_as(x), x, reduction="none").flatten(1).sum(1)
    torch.manual_seed(0)
    with torch.no_grad():
        got = fn(exact_model, x, 10)
    if not isinstance(got, torch.Tensor) or got.shape != (5,):
        return report(title, False, f"return one bound per image, shape (5,), got {_shape(got)}; average later.")
    if not torch.isfinite(got).all():
        return report(title, False, "the bound is not finite: log p(x|z) is about -500 nats, so exp() underflows; use torch.logsumexp.")
    diff = (got - log_px).mean().item()
    if abs(diff - math.log(10)) < 0.05:
        return report(title, False, "the bound is log k too high: average the weights (subtract log k), do not sum them.")
    if (got - log_px).abs().max() > 1e-2:
        if abs(diff + 0.5 * 3 * math.log(2 * math.pi)) < 0.5 or abs(diff) > 50:
            return report(title, False, f"with q equal to the true posterior the bound must be exact, but it is off by {diff:.2f} nats; "
                                        "check log p(z) and log q(z|x) (both include -0.5 log(2 pi) per dimension) and the sign of log q.")
        return report(title, False, f"with q equal to the true posterior the bound must equal log p(x); it is off by {diff:.2f} nats.")
    loose = _ZBlind(1.0, math.log(0.3))
    kl = 3 * 0.5 * (1 + 0.3 - 1 - math.log(0.3))
    with torch.no_grad():
        b1 = sum(fn(loose, x, 1).mean().item() for _ in range(100)) / 100
        b1000 = fn(loose, x, 1000).mean().item()
    exact = log_px.mean().item()
    if abs(b1 - (exact - kl)) > 0.25:
        return report(title, False, f"with k = 1 the bound should be the ELBO, log p(x) - KL = {exact - kl:.2f} on average, got {b1:.2f}.")
    if b1000 - b1 < 0.5 * kl:  # a real IWAE gains about the whole KL gap here
        return report(title, False, "the bound does not tighten with k: take log of the *mean of the weights*, not the mean of log-weights.")
    if b1000 > exact + 0.2:  # noise allows a little; a sign error gives far more
        return report(title, False, f"the bound {b1000:.2f} exceeds log p(x) = {exact:.2f}: it must stay below; check the signs.")
    return report(title, True, f"exact when q is the posterior; with a loose q it rises from the ELBO ({b1:.2f}) to {b1000:.2f} "
                               f"at k = 1000, below log p(x) = {exact:.2f}.")


@exercise("free-bits step")
def check_free_bits_step(make_step) -> bool:
    """Exercise 06.4: ``make_step(beta, free_bits)`` returns a train.fit step whose loss is rec + beta * sum_j max(λ, KL_j)."""
    from .elbo import elbo_terms, vae_step
    from .models import MLPVAE

    title = "free-bits step"
    torch.manual_seed(0)
    model = MLPVAE(6, 16)
    x = torch.rand(32, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    step = make_step(2.0, 0.5)
    if not callable(step):
        return report(title, False, f"make_step(beta, free_bits) must return a step function, got {type(step).__name__}.")
    torch.manual_seed(3)
    logs = step(model, (x,), None)
    if not isinstance(logs, dict) or "loss" not in logs:
        return report(title, False, "the step must return a dict of numbers with at least 'loss' (and 'nelbo', 'rec', 'kl').")
    torch.manual_seed(3)
    want = vae_step(2.0, free_bits=0.5)(model, (x,), None)
    torch.manual_seed(3)
    logits, mu, logvar = model(x)
    rec, kl_dims = elbo_terms(logits, x, mu, logvar)
    rec = rec.mean().item()
    variants = {
        "you clamp each image's KL before averaging over the batch: free bits apply to the batch-mean KL of each dimension.":
            rec + 2.0 * kl_dims.clamp(min=0.5).sum(1).mean().item(),
        "you clamp the total KL (summed over dimensions): free bits are per dimension, sum_j max(lambda, KL_j).":
            rec + 2.0 * max(0.5 * kl_dims.shape[1], kl_dims.sum(1).mean().item()),
        "beta is missing: the loss is rec + beta * (the free-bits KL).": rec + kl_dims.mean(0).clamp(min=0.5).sum().item(),
        "you took the minimum: the KL term is max(lambda, KL_j), so a dimension below lambda costs a constant.":
            rec + 2.0 * kl_dims.mean(0).clamp(max=0.5).sum().item(),
    }
    loss = float(logs["loss"])
    if abs(loss - want["loss"]) > 1e-3 * abs(want["loss"]):
        for hint, value in variants.items():
            if abs(loss - value) < 1e-3 * abs(value):
                return report(title, False, hint)
        return report(title, False, f"loss {loss:.2f}, expected rec + beta * sum_j max(lambda, mean KL_j) = {want['loss']:.2f}.")
    if "nelbo" in logs and abs(float(logs["nelbo"]) - want["nelbo"]) > 1e-3 * want["nelbo"]:
        return report(title, False, "'nelbo' must be the true negative ELBO, rec + KL, without beta or free bits.")
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    before = [p.detach().clone() for p in model.parameters()]
    torch.manual_seed(3)
    step(model, (x,), optimizer)
    if all(p.grad is None for p in model.parameters()):
        return report(title, False, "with an optimizer the step must call loss.backward() and optimizer.step().")
    if not all(torch.equal(a, b) for a, b in zip(before, model.parameters())):
        return report(title, False, "the step changed the weights with lr = 0: zero the gradients and let the optimizer step.")
    return report(title, True, f"loss {loss:.2f} = rec + beta * sum_j max(lambda, KL_j) on the batch; backward and step run.")
