import math

import pytest
import torch
import torch.nn as nn

from course_utils.vae import elbo, models


def test_gaussian_kl_known_values_and_monte_carlo():
    assert elbo.gaussian_kl(torch.zeros(4), torch.zeros(4)).abs().max() == 0  # N(0,1) to itself
    assert elbo.gaussian_kl(torch.tensor([1.0]), torch.tensor([0.0])).item() == pytest.approx(0.5)
    assert elbo.gaussian_kl(torch.tensor([0.0]), torch.tensor([1.0])).item() == pytest.approx(0.5 * (math.e - 2))
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, generator=g), torch.randn(5, generator=g)
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    z = q.sample((100_000,))
    mc = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).mean(0)
    assert torch.allclose(elbo.gaussian_kl(mu, logvar), mc, atol=0.03)
    assert (elbo.gaussian_kl(torch.randn(100), torch.randn(100)) >= 0).all()
    with pytest.raises(ValueError, match="same shape"):
        elbo.gaussian_kl(torch.zeros(3), torch.zeros(4))


def test_reparameterize_matches_target_and_passes_gradients():
    mu = torch.full((100_000,), -1.0, requires_grad=True)
    logvar = torch.full((100_000,), math.log(4.0), requires_grad=True)
    z = elbo.reparameterize(mu, logvar, generator=torch.Generator().manual_seed(0))
    assert z.mean().item() == pytest.approx(-1.0, abs=0.03)
    assert z.std().item() == pytest.approx(2.0, abs=0.03)
    z.pow(2).mean().backward()  # E[z^2] = mu^2 + sigma^2
    assert mu.grad.sum().item() == pytest.approx(-2.0, abs=0.05)  # 2 mu
    assert logvar.grad.sum().item() == pytest.approx(4.0, abs=0.1)  # sigma^2
    same = elbo.reparameterize(torch.zeros(3), torch.zeros(3), generator=torch.Generator().manual_seed(5))
    assert torch.equal(same, elbo.reparameterize(torch.zeros(3), torch.zeros(3), generator=torch.Generator().manual_seed(5)))


@pytest.mark.parametrize("model", [models.MLPVAE(8, 32), models.ConvVAE(8, (4, 8)), models.ConvHeadVAE(8, 32, 4, 8)],
                         ids=["mlp", "conv", "conv_head"])
def test_vae_contract_shapes(model):
    x = torch.rand(3, 1, 28, 28)
    mu, logvar = model.encode(x)
    assert mu.shape == logvar.shape == (3, 8)
    logits, mu2, _ = model(x)
    assert logits.shape == (3, 1, 28, 28) and torch.equal(mu, mu2)
    out = model.decode(torch.randn(3, 8))
    assert out.shape == (3, 1, 28, 28) and out.min() >= 0 and out.max() <= 1
    assert torch.equal(model.means(x), mu)


def test_conv_head_is_a_local_residual_correction():
    torch.manual_seed(0)
    head = models.ConvHead(patch=4, channels=8)
    logits = torch.randn(2, 1, 28, 28)
    nn.init.zeros_(head.correction[3].weight)  # no correction: the head passes the logits through
    nn.init.zeros_(head.correction[3].bias)
    assert torch.equal(head(logits), logits)
    head = models.ConvHead(patch=4, channels=8)
    poked = logits.clone()
    poked[:, :, 0, 0] += 5.0  # one logit in the top-left 4x4 patch
    change = (head(poked) - head(logits)).abs()[0, 0]
    assert change[:4, :4].max() > 0  # its own patch moves
    # two 3x3 convs reach two patches away: rows and columns 12 and beyond (patches 3..6) cannot move
    assert change[12:, :].max() == 0 and change[:, 12:].max() == 0
    assert change[:12, :12].max() > 0


def test_elbo_step_terms_and_training_reduces_the_loss():
    torch.manual_seed(0)
    x = (torch.rand(64, 1, 28, 28) > 0.7).float()
    model = models.MLPVAE(4, 32)
    step = elbo.vae_step()
    first = step(model, (x,), None)
    assert first["nelbo"] == pytest.approx(first["rec"] + first["kl"], rel=1e-5)
    assert first["rec"] > 784 * 0.5  # BCE summed over pixels, not averaged
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    for _ in range(60):
        logs = step(model, (x,), optimizer)
    assert logs["nelbo"] < first["nelbo"] - 50


def test_kl_annealing_and_free_bits_change_the_objective():
    model = models.MLPVAE(4, 16)
    x = torch.rand(8, 1, 28, 28)
    annealed = elbo.vae_step(anneal_steps=10)
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    weights = [annealed(model, (x,), optimizer)["kl_weight"] for _ in range(12)]
    assert weights[0] == 0 and weights[5] == pytest.approx(0.5) and weights[-1] == 1
    torch.manual_seed(0)
    plain = elbo.vae_step()(model, (x,), None)
    torch.manual_seed(0)
    free = elbo.vae_step(free_bits=10.0)(model, (x,), None)
    assert free["loss"] == pytest.approx(plain["rec"] + 4 * 10.0, rel=1e-4)  # every dimension below 10 nats
    with pytest.raises(ValueError):
        elbo.vae_step(beta=-1)


def test_negative_elbo_and_per_dimension_kl():
    model = models.MLPVAE(6, 16)
    with torch.no_grad():  # make dimension 0 carry information and leave the others at the prior
        model.to_stats.weight.zero_()
        model.to_stats.bias.zero_()
        model.to_stats.weight[0, :] = 0.5
    X = torch.rand(50, 1, 28, 28)
    kl = elbo.kl_per_dimension(model, X)
    assert kl.shape == (6,) and kl[0] > 0.01 and kl[1:].abs().max() < 1e-6
    assert elbo.active_dimensions(kl) == 1
    r = elbo.negative_elbo(model, X)
    assert r["nelbo"] == pytest.approx(r["rec"] + r["kl"]) and r["kl"] == pytest.approx(kl.sum().item(), rel=1e-4)


def test_cvae_conditioning_changes_the_output():
    torch.manual_seed(0)
    model = models.CVAE(latent_dim=6, hidden_dim=32)
    z = torch.randn(4, 6)
    a, b = model.decode(z, torch.tensor([0, 1, 2, 3])), model.decode(z, torch.tensor([4, 5, 6, 7]))
    assert a.shape == (4, 1, 28, 28) and (a - b).abs().max() > 1e-3
    x = torch.rand(4, 1, 28, 28)
    mu_a, _ = model.encode(x, torch.tensor([0, 1, 2, 3]))
    mu_b, _ = model.encode(x, torch.tensor([4, 5, 6, 7]))
    assert (mu_a - mu_b).abs().max() > 1e-4
    logits, mu, logvar = model(x, torch.tensor([0, 1, 2, 3]))
    assert logits.shape == (4, 1, 28, 28) and mu.shape == logvar.shape == (4, 6)
    with pytest.raises(ValueError, match="y must be one class label per image"):
        model.decode(z, torch.zeros(4))


def test_vector_quantizer_picks_nearest_and_routes_gradients():
    torch.manual_seed(0)
    vq = models.VectorQuantizer(num_codes=10, code_dim=3)
    z_e = torch.randn(2, 3, 4, 4, requires_grad=True)
    z_q, codebook_loss, commitment_loss, idx = vq(z_e)
    flat = z_e.detach().permute(0, 2, 3, 1).reshape(-1, 3)
    assert torch.equal(idx.flatten(), torch.cdist(flat, vq.codebook.weight.detach()).argmin(1))
    assert torch.allclose(z_q, vq.codebook.weight[idx].permute(0, 3, 1, 2))
    # straight-through: the decoder's gradient reaches the encoder output unchanged, not the codebook
    z_q.sum().backward(retain_graph=True)
    assert torch.equal(z_e.grad, torch.ones_like(z_e)) and vq.codebook.weight.grad is None
    # the codebook learns only from the codebook loss; the commitment loss moves only the encoder
    z_e.grad = None
    codebook_loss.backward(retain_graph=True)
    assert z_e.grad is None and vq.codebook.weight.grad.abs().sum() > 0
    vq.codebook.weight.grad = None
    commitment_loss.backward()
    assert z_e.grad.abs().sum() > 0 and vq.codebook.weight.grad is None
    assert codebook_loss.item() == pytest.approx(commitment_loss.item())
    with pytest.raises(ValueError, match=r"\(B, 3, H, W\)"):
        vq(torch.zeros(2, 5, 4, 4))


def test_vqvae_trains_and_codebook_usage():
    torch.manual_seed(0)
    model = models.VQVAE(num_codes=16, code_dim=4, channels=8)
    x = torch.rand(16, 1, 28, 28)
    logits, _, _, idx = model(x)
    assert logits.shape == (16, 1, 28, 28) and idx.shape == (16, 7, 7)
    assert model.decode_indices(idx).shape == (16, 1, 28, 28)
    step, optimizer = elbo.vq_step(), torch.optim.Adam(model.parameters(), lr=3e-3)
    first = step(model, (x,), optimizer)["loss"]
    for _ in range(30):
        last = step(model, (x,), optimizer)["loss"]
    assert last < first
    usage = elbo.codebook_usage(torch.tensor([0, 0, 1, 1]), 4)
    assert usage["used"] == 2 and usage["fraction"] == 0.5 and usage["perplexity"] == pytest.approx(2.0)
    assert elbo.codebook_usage(torch.arange(8), 8)["perplexity"] == pytest.approx(8.0)
    with pytest.raises(ValueError):
        elbo.codebook_usage(torch.tensor([9]), 4)


# ---------------------------------------------------------------- plumbing: the kinds of bug a formula test misses

class ModeSensitiveVAE(models.MLPVAE):
    """Encodes to garbage in training mode, so a measure that forgets eval mode gives a different number."""

    def encode(self, x):
        mu, logvar = super().encode(x)
        return (mu + 100.0, logvar) if self.training else (mu, logvar)


def test_measures_run_in_eval_mode_and_give_the_mode_back():
    torch.manual_seed(0)
    model, X = ModeSensitiveVAE(4, 16), torch.rand(20, 1, 28, 28)
    model.eval()
    at_eval = elbo.negative_elbo(model, X), elbo.kl_per_dimension(model, X)
    model.train()
    in_training = elbo.negative_elbo(model, X), elbo.kl_per_dimension(model, X)
    assert model.training  # the caller's mode comes back
    assert in_training[0] == at_eval[0] and torch.equal(in_training[1], at_eval[1])


def test_negative_elbo_is_averaged_per_image_not_per_batch():
    torch.manual_seed(0)
    model, X = models.MLPVAE(4, 16), torch.rand(7, 1, 28, 28)
    X[-1] = 1.0  # an unusual last image, alone in its batch of one below
    whole = elbo.negative_elbo(model, X, batch_size=7)
    with torch.no_grad():  # the same numbers by hand, all seven images at once
        mu, logvar = model.encode(X)
        logits = model.decode_logits(elbo.reparameterize(mu, logvar, torch.Generator().manual_seed(0)))
        rec, kl = elbo.elbo_terms(logits, X, mu, logvar)
    assert whole["rec"] == pytest.approx(rec.mean().item(), rel=1e-5)
    assert whole["kl"] == pytest.approx(kl.sum(1).mean().item(), rel=1e-5)
    chunked = elbo.negative_elbo(model, X, batch_size=3)  # batches of 3, 3 and 1 images
    assert chunked["kl"] == pytest.approx(whole["kl"], rel=1e-5)  # the KL does not depend on the noise
    assert chunked["rec"] == pytest.approx(whole["rec"], rel=0.02)
    assert elbo.kl_per_dimension(model, X, batch_size=3) == pytest.approx(elbo.kl_per_dimension(model, X), rel=1e-5)


def test_negative_elbo_noise_runs_on_across_batches():
    torch.manual_seed(0)
    model = models.MLPVAE(4, 16)
    with torch.no_grad():
        model.to_stats.bias[4:] = 2.0  # wide posteriors: the noise matters
    x = torch.rand(1, 1, 28, 28)
    one = elbo.negative_elbo(model, x)["rec"]
    twice = elbo.negative_elbo(model, x.repeat(2, 1, 1, 1), batch_size=1)["rec"]
    assert twice != pytest.approx(one, rel=1e-6)  # the second batch got new noise, not the first batch's again


def test_cvae_negative_elbo_keeps_labels_with_their_images():
    torch.manual_seed(0)
    model = models.CVAE(4, 16)
    X, y = torch.rand(12, 1, 28, 28), torch.arange(12) % 10
    whole = elbo.negative_elbo(model, X, y, batch_size=12)
    assert elbo.negative_elbo(model, X, y, batch_size=5)["kl"] == pytest.approx(whole["kl"], rel=1e-5)
    perm = torch.randperm(12)
    assert elbo.negative_elbo(model, X[perm], y[perm], batch_size=12)["kl"] == pytest.approx(whole["kl"], rel=1e-5)
    assert elbo.negative_elbo(model, X, y.roll(1), batch_size=12)["kl"] != pytest.approx(whole["kl"], rel=1e-3)


def test_free_bits_clamp_the_batch_mean_kl_of_each_dimension():
    """Σ_j max(λ, mean_b KL_bj): a regulariser on the batch, not Σ_j mean_b max(λ, KL_bj) per image."""
    model = models.MLPVAE(2, 8)
    with torch.no_grad():
        model.to_stats.weight.zero_()
        model.to_stats.bias.zero_()
    x = torch.rand(2, 1, 28, 28)

    def fixed_stats(_x):  # image 0: KL 2 nats in dimension 0; image 1: at the prior
        return torch.tensor([[2.0, 0.0], [0.0, 0.0]]), torch.zeros(2, 2)

    model.encode = fixed_stats
    torch.manual_seed(0)
    plain = elbo.vae_step()(model, (x,), None)
    torch.manual_seed(0)
    free = elbo.vae_step(free_bits=0.75)(model, (x,), None)
    # batch means per dimension: (1.0, 0.0) -> max(0.75, .) -> 1.0 + 0.75; per image it would be (2 + .75 + .75 + .75) / 2
    assert free["loss"] == pytest.approx(plain["rec"] + 1.0 + 0.75, rel=1e-5)
    assert free["kl"] == pytest.approx(plain["kl"]) == pytest.approx(1.0)
