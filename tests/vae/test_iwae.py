"""The importance-weighted bound and the KL between two diagonal Gaussians (06_vae §2 and the exercises)."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.vae import elbo, models


class ZBlindVAE(nn.Module):
    """A decoder that ignores z (constant logits), so log p(x) = -BCE(x, logits) exactly; q(z|x) is fixed."""

    def __init__(self, mu=0.0, logvar=0.0, latent_dim=3):
        super().__init__()
        self.logit = nn.Parameter(torch.full((1, 1, 28, 28), 0.3))
        self.mu, self.logvar, self.latent_dim = mu, logvar, latent_dim

    def encode(self, x):
        return torch.full((len(x), self.latent_dim), self.mu), torch.full((len(x), self.latent_dim), self.logvar)

    def decode_logits(self, z):
        return self.logit.expand(len(z), 1, 28, 28)


X = torch.rand(6, 1, 28, 28, generator=torch.Generator().manual_seed(0))


def exact_nll(model):
    return F.binary_cross_entropy_with_logits(model.logit.expand_as(X), X, reduction="none").flatten(1).sum(1)


def test_iwae_is_exact_when_q_is_the_true_posterior():
    model = ZBlindVAE()  # q(z|x) = p(z) = p(z|x): every weight is p(x), for every k
    for k in (1, 7):
        out = elbo.iwae_bound(model, X, k=k, batch_size=4)
        assert out["per_image"].shape == (6,) and out["k"] == k
        assert torch.allclose(out["per_image"], exact_nll(model), atol=1e-3)


def test_iwae_bounds_log_px_and_tightens_with_k():
    model = ZBlindVAE(mu=1.0, logvar=math.log(0.3))  # q differs from the posterior: the ELBO gap is the KL
    x = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
    exact = F.binary_cross_entropy_with_logits(model.logit.expand_as(x), x, reduction="none").flatten(1).sum(1).mean().item()
    kl = elbo.gaussian_kl(torch.full((3,), 1.0), torch.full((3,), math.log(0.3))).sum().item()
    k1 = sum(elbo.iwae_bound(model, x, k=1, seed=s)["nll"] for s in range(10)) / 10
    assert k1 == pytest.approx(exact + kl, abs=0.15)  # k = 1 is the ELBO in expectation
    k10, k1000 = (elbo.iwae_bound(model, x, k=k, seed=1)["nll"] for k in (10, 1000))
    assert exact - 0.05 < k1000 < exact + 0.3 * kl and k1000 < k10 < exact + kl  # measured: k1000 - exact = 0.49


def test_iwae_with_one_sample_is_the_elbo_of_a_real_vae():
    torch.manual_seed(0)
    model = models.MLPVAE(4, 32)
    x = (torch.rand(20, 1, 28, 28) > 0.6).float()
    nelbo = sum(elbo.negative_elbo(model, x, seed=s)["nelbo"] for s in range(20)) / 20
    k1 = sum(elbo.iwae_bound(model, x, k=1, seed=s)["nll"] for s in range(20)) / 20
    assert k1 == pytest.approx(nelbo, abs=0.5)  # k = 1: the same bound, with a Monte-Carlo KL instead of the closed form
    with pytest.raises(ValueError, match="k"):
        elbo.iwae_bound(model, x, k=0)
    with pytest.raises(ValueError, match="X"):
        elbo.iwae_bound(model, x * 255)


def test_kl_between_two_gaussians():
    g = torch.Generator().manual_seed(0)
    mq, lq, mp, lp = (torch.randn(5, generator=g) for _ in range(4))
    want = torch.distributions.kl_divergence(torch.distributions.Normal(mq, (0.5 * lq).exp()),
                                             torch.distributions.Normal(mp, (0.5 * lp).exp()))
    assert torch.allclose(elbo.gaussian_kl_between(mq, lq, mp, lp), want, atol=1e-5)
    assert torch.allclose(elbo.gaussian_kl_between(mq, lq, torch.zeros(5), torch.zeros(5)), elbo.gaussian_kl(mq, lq), atol=1e-6)
    assert elbo.gaussian_kl_between(mq, lq, mq, lq).abs().max() < 1e-6
    with pytest.raises(ValueError, match="mu_q"):
        elbo.gaussian_kl_between(mq, lq, mp, torch.zeros(4))


def test_prior_cell_counts_finds_a_hole_and_sums_the_inside():
    from course_utils.vae import views

    g = torch.Generator().manual_seed(0)
    prior = torch.randn(20000, 2, generator=g)
    counts = views.prior_cell_counts(prior, n=5, span=0.9)
    assert counts.shape == (5, 5) and counts.sum() <= 20000
    inner = counts[1:4, 1:4].float()
    assert inner.std() / inner.mean() < 0.15  # equal prior mass per inner cell
    holed = prior[prior.norm(dim=1) > 0.4]  # carve a hole around the origin: the centre cell (|z| < 0.25) empties
    counts = views.prior_cell_counts(holed, n=5, span=0.9)
    assert counts[2, 2] == 0 and counts[2, 0] > 0.8 * inner.mean()
    shifted = views.prior_cell_counts(prior + torch.tensor([0.0, 1.0]), n=5, span=0.9)  # rows run from high z[1] down
    assert shifted[0].sum() > 2 * shifted[4].sum()
    with pytest.raises(ValueError, match="means"):
        views.prior_cell_counts(torch.zeros(4, 3))


def test_posterior_mean_variance_sees_collapsed_dimensions():
    model = models.MLPVAE(4, 16)
    with torch.no_grad():
        model.to_stats.weight[[1, 3]] = 0.0  # the means of dimensions 1 and 3 no longer depend on x
        model.to_stats.bias[[1, 3]] = 0.0
    var = elbo.posterior_mean_variance(model, torch.rand(50, 1, 28, 28))
    assert var.shape == (4,) and var[1] == 0 and var[3] == 0 and (var[[0, 2]] > 0).all()
    with pytest.raises(ValueError, match="X"):
        elbo.posterior_mean_variance(model, torch.rand(1, 1, 28, 28))


def test_manifold_figure_overlays_the_means_and_gan_samples_refuses_bad_n():
    from course_utils.vae import training, views

    fig = views.manifold_figure(models.MLPVAE(2, 8), n=4, means=torch.randn(30, 2), labels=torch.arange(30) % 10,
                                classes=[str(i) for i in range(10)])
    assert len(fig.axes) == 2 and len(fig.axes[1].collections) >= 1  # the scatter of means on the second panel
    means = torch.cat([torch.zeros(5, 2), torch.tensor([[4.0, 0.0], [0.0, -5.0], [3.0, 3.0]])])
    fig = views.manifold_figure(models.MLPVAE(2, 8), n=15, means=means)  # the grid reaches z = ±2.1
    inside, edge = fig.axes[1].collections  # dots inside the grid, crosses on its edge for the 3 beyond it
    assert len(inside.get_offsets()) == 5 and len(edge.get_offsets()) == 3
    assert "3 lie beyond the grid" in fig.axes[1].get_title()
    with pytest.raises(ValueError, match="means"):
        views.manifold_figure(models.MLPVAE(2, 8), n=4, means=torch.randn(30, 3))
    with pytest.raises(ValueError, match="n must"):
        training.gan_samples(0)
