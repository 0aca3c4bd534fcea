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
