"""Auto-checks for the chapter exercises: call one on your answer, read "passed" or a specific hint.

Each check returns True/False and prints one line. An answer that is missing (``None``) or still
raises ``NotImplementedError`` is reported as "not yet solved", never as a crash.
"""

from __future__ import annotations

import torch
import torch.nn as nn

from ..checks import attempt, report


def _kl_reference(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def check_gaussian_kl(fn) -> bool:
    """Exercise 06.1: ``fn(mu, logvar)`` is KL(N(mu, exp(logvar)) || N(0, 1)) element by element."""
    title = "Gaussian KL"
    if fn is None:
        return report(title, False, "not yet solved - define kl_to_standard_normal(mu, logvar).")
    zero, failed = attempt(title, fn, torch.zeros(3), torch.zeros(3))
    if failed is not None:
        return failed
    if not isinstance(zero, torch.Tensor) or zero.shape != (3,):
        shape = tuple(zero.shape) if isinstance(zero, torch.Tensor) else type(zero).__name__
        return report(title, False, f"return one KL per element (shape of mu, here (3,)), got {shape}; do not sum.")
    if not torch.allclose(zero, torch.zeros(3), atol=1e-6):
        return report(title, False, f"the KL of N(0, 1) to itself must be 0, got {zero.tolist()}; check the -1 and -logvar terms.")
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    got, failed = attempt(title, fn, mu, logvar)
    if failed is not None:
        return failed
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


def check_reparameterize(fn) -> bool:
    """Exercise 06.2: ``fn(mu, logvar)`` samples N(mu, exp(logvar)) differentiably in mu and logvar."""
    title = "reparameterize"
    if fn is None:
        return report(title, False, "not yet solved - define sample_z(mu, logvar).")
    torch.manual_seed(0)
    mu = torch.full((50000,), 2.0, requires_grad=True)
    logvar = torch.full((50000,), torch.tensor(0.25).log().item(), requires_grad=True)
    z, failed = attempt(title, fn, mu, logvar)
    if failed is not None:
        return failed
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        return report(title, False, f"return one sample per element, shape {tuple(mu.shape)}; got {shape}.")
    mean, std = z.mean().item(), z.std().item()
    if abs(mean - 2) > 0.02:
        return report(title, False, f"the samples' mean is {mean:.2f}, not mu = 2; add mu.")
    if abs(std - 0.25) < 0.02:
        return report(title, False, "the samples' spread is sigma^2 = 0.25, not sigma = 0.5: use exp(0.5 * logvar).")
    if abs(std - 0.5) > 0.02:
        return report(title, False, f"the samples' standard deviation is {std:.2f}, expected sigma = exp(0.5 * logvar) = 0.5.")
    if not z.requires_grad:
        return report(title, False, "the sample is cut off from mu and logvar; draw eps ~ N(0, 1) and return mu + sigma * eps.")
    z.pow(2).mean().backward()
    g_mu = 0.0 if mu.grad is None else mu.grad.sum().item()
    g_lv = 0.0 if logvar.grad is None else logvar.grad.sum().item()
    if abs(g_mu - 4) > 0.1 or abs(g_lv - 0.25) > 0.03:
        return report(title, False, f"gradients of E[z^2] should be 2 mu = 4 and sigma^2 = 0.25, got {g_mu:.2f} and {g_lv:.2f}.")
    return report(title, True, f"mean {mean:.2f}, std {std:.2f}, and the gradients of E[z^2] reach mu ({g_mu:.2f}) and logvar ({g_lv:.2f}).")


def check_cvae(model: nn.Module) -> bool:
    """Exercise 06.3: a conditional VAE whose encoder and decoder both depend on the label."""
    title = "conditional VAE"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `my_cvae`.")
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}` taking the label as second argument.")
    model.eval()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28, generator=g), torch.tensor([0, 3, 5, 9])
    with torch.no_grad():
        stats, failed = attempt(title, model.encode, x, y)
        if failed is not None:
            return failed
        if not (isinstance(stats, tuple | list) and len(stats) == 2 and stats[0].shape == stats[1].shape and stats[0].dim() == 2):
            return report(title, False, "encode(x, y) must return (mu, logvar), two tensors of shape (B, latent_dim).")
        mu, _ = stats
        other, _ = model.encode(x, (y + 1) % 10)
        z = torch.randn(mu.shape, generator=g)
        out, failed = attempt(title, model.decode, z, y)
        if failed is not None:
            return failed
        if tuple(out.shape) != (4, 1, 28, 28):
            return report(title, False, f"decode(z, y) must give images (4, 1, 28, 28), got {tuple(out.shape)}.")
        if out.min() < 0 or out.max() > 1:
            return report(title, False, "decode must return probabilities in [0, 1]: apply a sigmoid to the logits.")
        changed = (model.decode(z, (y + 1) % 10) - out).abs().max().item()
    if changed < 1e-6:
        return report(title, False, "changing the label does not change the decoded image; feed y into the decoder.")
    if torch.allclose(other, mu, atol=1e-6):
        return report(title, False, "the encoder ignores the label; q(z | x, y) should see y too.")
    return report(title, True, f"encode(x, y) and decode(z, y) both use the label (same z, other label: pixels move by up to {changed:.2f}).")


def check_vector_quantizer(fn) -> bool:
    """Exercise 06.4: ``fn(z_e, codebook) -> (z_q, indices)``: nearest codebook row, straight-through gradient."""
    title = "vector quantizer"
    if fn is None:
        return report(title, False, "not yet solved - define quantize(z_e, codebook).")
    g = torch.Generator().manual_seed(0)
    codebook = torch.randn(12, 5, generator=g).requires_grad_()
    z_e = torch.randn(30, 5, generator=g).requires_grad_()
    out, failed = attempt(title, fn, z_e, codebook)
    if failed is not None:
        return failed
    if not (isinstance(out, tuple | list) and len(out) == 2):
        return report(title, False, "return a pair (z_q, indices).")
    z_q, indices = out
    want = torch.cdist(z_e.detach(), codebook.detach()).argmin(1)
    if not isinstance(indices, torch.Tensor) or indices.shape != (30,):
        return report(title, False, "indices must be a tensor with one code number per vector, shape (N,).")
    if not torch.equal(indices.long(), want):
        far = torch.cdist(z_e.detach(), codebook.detach()).argmax(1)
        hint = "you picked the farthest row: take argmin of the distances." if torch.equal(indices.long(), far) else \
            "each index must be the row of the codebook closest in Euclidean distance."
        return report(title, False, f"wrong nearest neighbours for {(indices.long() != want).sum().item()} of 30 vectors; {hint}")
    if not isinstance(z_q, torch.Tensor) or not torch.allclose(z_q, codebook[want], atol=1e-5):
        return report(title, False, "z_q must equal the chosen codebook rows in the forward pass.")
    if not z_q.requires_grad:
        return report(title, False, "z_q carries no gradient; return z_e + (z_q - z_e).detach().")
    z_q.sum().backward()
    if z_e.grad is None or not torch.allclose(z_e.grad, torch.ones_like(z_e)):
        return report(title, False, "the gradient must pass straight through to z_e unchanged; use z_e + (z_q - z_e).detach().")
    if codebook.grad is not None and codebook.grad.abs().sum() > 0:
        return report(title, False, "the codebook receives gradient through z_q; detach it (it learns from the codebook loss).")
    return report(title, True, "nearest neighbours right, forward values are codebook rows, gradient straight through to z_e only.")
