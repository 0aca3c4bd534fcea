"""course_utils.gan: toy data and mode counting, the losses, the training step, the DCGAN models and checkpoints."""

import math

import pytest
import torch
import torch.nn as nn

from course_utils import checkpoints, train
from course_utils.gan import evaluation, models, training

# ---------------------------------------------------------------- toy data and mode counting


def test_ring_points_sit_on_eight_equally_used_modes():
    g = torch.Generator().manual_seed(0)
    x = evaluation.ring_of_gaussians(8000, num_modes=8, radius=2.0, std=0.05, generator=g)
    centers = evaluation.ring_centers(8, 2.0)
    assert x.shape == (8000, 2)
    assert torch.allclose(centers.norm(dim=1), torch.full((8,), 2.0))
    dist, nearest = torch.cdist(x, centers).min(dim=1)
    assert dist.max() < 6 * 0.05  # every point is within a few std of a centre
    shares = torch.bincount(nearest, minlength=8) / len(x)
    assert shares.min() > 0.1 and shares.max() < 0.15  # 1/8 each, up to sampling noise
    assert torch.equal(x, evaluation.ring_of_gaussians(8000, std=0.05, generator=torch.Generator().manual_seed(0)))
    with pytest.raises(ValueError, match="positive int"):
        evaluation.ring_of_gaussians(0)
    with pytest.raises(ValueError, match="std must be positive"):
        evaluation.ring_of_gaussians(10, std=0)


def test_count_modes():
    centers = evaluation.ring_centers(8, 2.0)
    g = torch.Generator().manual_seed(1)
    three = torch.cat([centers[i] + 0.01 * torch.randn(300, 2, generator=g) for i in (0, 3, 5)])
    count = evaluation.count_modes(three, centers, max_dist=0.15)
    assert count.covered == 3 and count.counts.tolist() == [300, 0, 0, 300, 0, 300, 0, 0] and count.quality == 1.0
    far = torch.zeros(100, 2)  # the centre of the ring is 2 away from every mode
    assert evaluation.count_modes(far, centers, max_dist=0.15).covered == 0
    assert evaluation.count_modes(far, centers, max_dist=0.15).quality == 0.0
    # a mode with a single stray point out of 1,000 is not covered at the default 2 % share
    mixed = torch.cat([centers[[0]].repeat(999, 1), centers[[4]]])
    assert evaluation.count_modes(mixed, centers, max_dist=0.15).covered == 1
    assert evaluation.count_modes(mixed, centers, max_dist=0.15, min_share=0.001).covered == 2
    with pytest.raises(ValueError, match=r"\(N, 2\)"):
        evaluation.count_modes(torch.zeros(10, 3), centers, max_dist=0.1)


# ---------------------------------------------------------------- losses


def test_discriminator_loss_is_minus_the_value_function():
    real, fake = torch.randn(7, 1), torch.randn(7, 1)
    value = torch.log(torch.sigmoid(real)).mean() + torch.log(1 - torch.sigmoid(fake)).mean()
    assert torch.allclose(training.discriminator_loss(real, fake), -value, atol=1e-6)
    # at the equilibrium D = 1/2 everywhere, V = -log 4
    assert math.isclose(training.discriminator_loss(torch.zeros(3, 1), torch.zeros(3, 1)).item(), math.log(4), rel_tol=1e-6)


def test_generator_losses_known_values_and_gradients():
    zero = torch.zeros(4, 1)
    assert math.isclose(training.generator_loss(zero, "non_saturating").item(), math.log(2), rel_tol=1e-6)
    assert math.isclose(training.generator_loss(zero, "saturating").item(), -math.log(2), rel_tol=1e-6)
    for d in (0.001, 0.01, 0.1, 0.5, 0.9):
        logit = torch.logit(torch.tensor([d], dtype=torch.float64)).requires_grad_(True)
        (sat,) = torch.autograd.grad(training.generator_loss(logit, "saturating"), logit)
        (non,) = torch.autograd.grad(training.generator_loss(logit, "non_saturating"), logit)
        assert math.isclose(sat.item(), -d, rel_tol=1e-6)  # d/dl log(1 - sigmoid(l)) = -sigmoid(l)
        assert math.isclose(non.item(), -(1 - d), rel_tol=1e-6)  # d/dl -log sigmoid(l) = -(1 - sigmoid(l))
        if d < 0.5:
            assert abs(non.item()) > abs(sat.item())  # the point of the non-saturating loss
    assert torch.isfinite(training.generator_loss(torch.tensor([[-500.0]]), "non_saturating"))
    with pytest.raises(ValueError, match="Unknown generator loss"):
        training.generator_loss(zero, "minimax")


class _Linear(nn.Module):
    def __init__(self, w):
        super().__init__()
        self.w = nn.Parameter(torch.tensor(w))

    def forward(self, x):
        return x.flatten(1) @ self.w[:, None]


def test_critic_loss_and_gradient_penalty_known_values():
    assert training.critic_loss(torch.tensor([3.0, 5.0]), torch.tensor([1.0, 1.0])).item() == pytest.approx(-3.0)
    real, fake = torch.randn(16, 2), torch.randn(16, 2)
    # a linear critic has the same gradient w everywhere: penalty (|w| - 1)^2
    assert training.gradient_penalty(_Linear([0.6, 0.8]), real, fake).item() == pytest.approx(0.0, abs=1e-10)
    assert training.gradient_penalty(_Linear([3.0, 0.0]), real, fake).item() == pytest.approx(4.0)
    critic = _Linear([3.0, 0.0])
    training.gradient_penalty(critic, real, fake).backward()
    assert critic.w.grad is not None and critic.w.grad.abs().sum() > 0  # the penalty trains the critic
    with pytest.raises(ValueError, match="same shape"):
        training.gradient_penalty(critic, real, fake[:3])


# ---------------------------------------------------------------- the training step


class _Spy(torch.optim.SGD):
    def __init__(self, params, watched, **kw):
        super().__init__(params, **kw)
        self.watched, self.calls, self.saw = list(watched), 0, []

    def step(self, closure=None):
        self.calls += 1
        self.saw.append([None if p.grad is None else p.grad.clone() for p in self.watched])
        return super().step(closure)


def _toy_gan(seed=0):
    torch.manual_seed(seed)
    return models.GAN(models.ToyGenerator(2, hidden=16, depth=2), models.mlp(2, 1, hidden=16, depth=2, leaky=True))


@pytest.mark.parametrize("loss", training.LOSSES)
def test_step_updates_both_nets_and_detaches_the_fake(loss):
    model = _toy_gan()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    d_opt = _Spy(model.D.parameters(), model.G.parameters(), lr=0.05)
    g_opt = _Spy(model.G.parameters(), model.D.parameters(), lr=0.05)
    logs = training.gan_step(loss)(model, (evaluation.ring_of_gaussians(32),), {"G": g_opt, "D": d_opt})
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"} and all(math.isfinite(v) for v in logs.values())
    assert d_opt.calls == 1 and g_opt.calls == 1
    assert all(g is None for g in d_opt.saw[0]), "G received gradients from D's loss: the fake was not detached"
    d_grads_at_d_step = [p.grad.clone() for p in model.D.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(g_opt.saw[0], d_grads_at_d_step)), "G's update changed D's gradients"
    assert all(p.requires_grad for p in model.D.parameters())  # switched back on after G's update
    after = model.state_dict()
    for part in ("G.", "D."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(part)), f"{part} did not move"


def test_step_options():
    model = _toy_gan()
    d_opt = _Spy(model.D.parameters(), [], lr=0.05)
    g_opt = torch.optim.SGD(model.G.parameters(), lr=0.05)
    training.gan_step("non_saturating", d_steps=3)(model, (evaluation.ring_of_gaussians(30),), {"G": g_opt, "D": d_opt})
    assert d_opt.calls == 3  # three D updates, one G update per batch
    training.gan_step("wgan_clip", clip=0.01)(model, (evaluation.ring_of_gaussians(30),), {"G": g_opt, "D": d_opt})
    assert max(p.abs().max().item() for p in model.D.parameters()) <= 0.01 + 1e-7
    before = {k: v.clone() for k, v in model.state_dict().items()}
    with torch.no_grad():
        logs = training.gan_step()(model, (evaluation.ring_of_gaussians(30),), None)  # measuring only
    assert all(torch.equal(before[k], v) for k, v in model.state_dict().items()) and 0 < logs["d_real"] < 1
    with pytest.raises(TypeError, match="optimizer="):
        training.gan_step()(model, (evaluation.ring_of_gaussians(30),), torch.optim.SGD(model.parameters(), lr=0.1))
    with pytest.raises(ValueError, match="Unknown loss"):
        training.gan_step("hinge")
    with pytest.raises(ValueError, match="d_steps"):
        training.gan_step(d_steps=0)


def test_fit_trains_a_toy_gan_and_keeps_snapshots():
    model = _toy_gan()
    loader = [(evaluation.ring_of_gaussians(64, generator=torch.Generator().manual_seed(i)),) for i in range(10)]
    optimizer = {"G": torch.optim.Adam(model.G.parameters(), 1e-3), "D": torch.optim.Adam(model.D.parameters(), 1e-3)}
    grids, log = training.SampleGrids(torch.randn(50, 2), every=4), training.BatchLog()
    history = train.fit(model, loader, num_epochs=2, optimizer=optimizer, step=training.gan_step(), monitor=None,
                        callbacks=[grids, log], live_plot=False, verbose=False)
    assert len(history) == 2 and "train_d_loss" in history.keys()
    assert grids.steps == [1, 4, 8, 12, 16, 20] and all(f.shape == (50, 2) for f in grids.frames)
    assert len(log.logs["g_loss"]) == 20
    assert not torch.equal(grids.frames[0], grids.frames[-1])


# ---------------------------------------------------------------- DCGAN models


@pytest.mark.parametrize("norm", models.NORMS)
def test_dcgan_shapes_and_ranges(norm):
    G, D = models.Generator(latent_dim=16, channels=8), models.Discriminator(channels=8, norm=norm)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (5, 1)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert has_bn == (norm == "batch")
    assert not isinstance(D.net[1], nn.BatchNorm2d)  # never batch norm on D's input layer
    assert isinstance(G.net[-1], nn.Tanh) and any(isinstance(m, nn.LeakyReLU) for m in D.modules())
    with pytest.raises(ValueError, match="Unknown norm"):
        models.Discriminator(norm="layer")


def test_spectral_norm_bounds_every_layer():
    D = models.Discriminator(channels=8, norm="spectral")
    models.init_dcgan_weights(D)
    D.train()
    with torch.no_grad():
        for _ in range(30):
            D(torch.randn(4, 1, 28, 28))
    layers = [m for m in D.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == 3
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_sample_grids_round_trip_through_meta():
    grids = training.SampleGrids(torch.randn(3, 4), every=2)
    grids.frames = [torch.rand(3, 1, 28, 28) * 2 - 1 for _ in range(2)]
    grids.steps = [1, 2]
    meta = training.frames_to_meta(grids)
    assert all(isinstance(v, int) and 0 <= v <= 255 for v in meta["grid_frames"][0][:50])
    frames, steps = training.frames_from_meta(meta)
    assert steps == [1, 2]
    assert all(torch.allclose(a, (b + 1) / 2, atol=1 / 255) for a, b in zip(frames, grids.frames))
    with pytest.raises(ValueError, match="no sample grids"):
        training.frames_from_meta({})


def test_make_gan_rejects_unknown_variants():
    with pytest.raises(ValueError, match="Unknown variant"):
        training.make_gan("stylegan")


def test_pretrained_generator_contract_without_checkpoint(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")  # trains the tiny smoke version
    G, message = training.pretrained_generator(use_checkpoint=False)
    assert "from scratch" in message and not G.training
    x = G(torch.randn(3, G.latent_dim))
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1


# ---------------------------------------------------------------- the committed checkpoints


@pytest.mark.parametrize("name", sorted(training.CHECKPOINTS))
def test_checkpoint_is_small_checksummed_and_loads_with_weights_only(name):
    path = checkpoints.checkpoint_path(name)
    if not checkpoints.has_checkpoint(name):
        pytest.skip(f"{path.name} missing: run `python scripts/make_checkpoints.py {name}`")
    assert path.stat().st_size <= checkpoints.MAX_BYTES
    expected = (path.parent / (path.name + ".sha256")).read_text().split()[0]
    assert checkpoints.sha256_of(path) == expected
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert set(saved) == {"state_dict", "meta"}
    model = training.make_gan(name)
    meta = checkpoints.load_checkpoint(model, path)
    assert meta["variant"] == name and meta["train_seconds"] > 0
    frames, steps = training.frames_from_meta(meta)
    assert len(frames) >= 5 and steps == sorted(steps) and frames[0].shape == (36, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        x = model.G(torch.randn(8, model.latent_dim))
    assert x.std() > 0.1  # a trained generator, not a constant image


def test_best_is_the_checkpoint_with_the_lowest_frechet_distance():
    if not all(checkpoints.has_checkpoint(n) for n in training.CHECKPOINTS):
        pytest.skip("not every GAN checkpoint is present")
    frechet = {n: torch.load(checkpoints.checkpoint_path(n), weights_only=True)["meta"]["frechet_5000"] for n in training.CHECKPOINTS}
    assert training.BEST == min(frechet, key=frechet.get), frechet
