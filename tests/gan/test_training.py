"""course_utils.gan.training: the two steps, the callbacks, the variants' trainer and the committed checkpoints."""

import dataclasses
import math

import pytest
import torch

from course_utils import checkpoints, train
from course_utils.gan import evaluation, losses, models, training


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
    return models.GAN(models.ToyGenerator(2, hidden_dim=16, depth=2), models.mlp(2, 1, hidden_dim=16, depth=2, leaky=True))


STEPS = {"non_saturating": lambda: training.gan_step("non_saturating"), "saturating": lambda: training.gan_step("saturating"),
         "wgan_gp": lambda: training.wgan_gp_step()}


@pytest.mark.parametrize("kind", sorted(STEPS))
def test_step_updates_both_nets_and_detaches_the_fake(kind):
    model = _toy_gan()
    before = {k: v.clone() for k, v in model.state_dict().items()}
    d_opt = _Spy(model.D.parameters(), model.G.parameters(), lr=0.05)
    g_opt = _Spy(model.G.parameters(), model.D.parameters(), lr=0.05)
    logs = STEPS[kind]()(model, (evaluation.ring_of_gaussians(32),), {"G": g_opt, "D": d_opt})
    assert set(logs) == {"d_loss", "g_loss", "d_real", "d_fake"} and all(math.isfinite(v) for v in logs.values())
    assert d_opt.calls == 1 and g_opt.calls == 1
    assert all(g is None for g in d_opt.saw[0]), "G received gradients from D's loss: the fake was not detached"
    d_grads_at_d_step = [p.grad.clone() for p in model.D.parameters()]
    assert all(torch.equal(a, b) for a, b in zip(g_opt.saw[0], d_grads_at_d_step)), "G's update changed D's gradients"
    assert all(p.requires_grad for p in model.D.parameters())  # switched back on after G's update
    after = model.state_dict()
    for part in ("G.", "D."):
        assert any(not torch.equal(before[k], after[k]) for k in before if k.startswith(part)), f"{part} did not move"


def test_step_logs_mean_what_they_say():
    model = _toy_gan()
    real = evaluation.ring_of_gaussians(40)
    opt = {"G": torch.optim.SGD(model.G.parameters(), lr=0.0), "D": torch.optim.SGD(model.D.parameters(), lr=0.0)}
    torch.manual_seed(5)
    logs = training.gan_step()(model, (real,), opt)  # lr 0: the weights stay, so the logs can be recomputed
    torch.manual_seed(5)
    fake = model.G(model.sample_z(40))
    assert logs["d_real"] == pytest.approx(torch.sigmoid(model.D(real)).mean().item(), rel=1e-5)
    assert logs["d_fake"] == pytest.approx(torch.sigmoid(model.D(fake)).mean().item(), rel=1e-5)
    assert logs["d_loss"] == pytest.approx(losses.discriminator_loss(model.D(real), model.D(fake)).item(), rel=1e-5)
    torch.manual_seed(5)
    logs = training.wgan_gp_step()(model, (real,), opt)
    torch.manual_seed(5)
    fake = model.G(model.sample_z(40))
    assert logs["d_real"] == pytest.approx(model.D(real).mean().item(), rel=1e-5)  # a score, not a probability
    assert logs["d_loss"] == pytest.approx(losses.critic_loss(model.D(real), model.D(fake)).item(), rel=1e-5)


def test_d_steps_splits_the_batch_and_the_optimizer_dict_is_required():
    model = _toy_gan()
    d_opt = _Spy(model.D.parameters(), [], lr=0.05)
    g_opt = _Spy(model.G.parameters(), [], lr=0.05)
    for step in (training.gan_step("non_saturating", d_steps=3), training.wgan_gp_step(d_steps=3)):
        d_opt.calls = g_opt.calls = 0
        step(model, (evaluation.ring_of_gaussians(30),), {"G": g_opt, "D": d_opt})
        assert (d_opt.calls, g_opt.calls) == (3, 1)  # three D updates, one G update per batch
    for wrong in (None, torch.optim.SGD(model.parameters(), lr=0.1), {"G": g_opt}):
        with pytest.raises(AssertionError, match="optimizer must be"):
            training.gan_step()(model, (evaluation.ring_of_gaussians(30),), wrong)


def _old_gan_step(loss="non_saturating", d_steps=1, gp_weight=10.0):
    """The step the committed checkpoints were trained with (commit 00ac4e0), without its measuring and clipping modes."""
    critic = loss.startswith("wgan")
    readout = (lambda s: s.mean()) if critic else (lambda s: torch.sigmoid(s).mean())  # noqa: E731

    def step(model, batch, optimizer):
        G, D, real = model.G, model.D, batch[0]
        for chunk in real.chunk(d_steps):
            fake = G(model.sample_z(len(chunk))).detach()
            real_out, fake_out = D(chunk), D(fake)
            d_loss = losses.critic_loss(real_out, fake_out) if critic else losses.discriminator_loss(real_out, fake_out)
            total = d_loss + gp_weight * losses.gradient_penalty(D, chunk, fake) if loss == "wgan_gp" else d_loss
            optimizer["D"].zero_grad(set_to_none=True)
            total.backward()
            optimizer["D"].step()
        D.requires_grad_(False)
        out = D(G(model.sample_z(len(real))))
        g_loss = -out.mean() if critic else losses.generator_loss(out, loss)
        optimizer["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizer["G"].step()
        D.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": readout(real_out).item(),
                "d_fake": readout(fake_out).item()}

    return step


@pytest.mark.parametrize("name", sorted(training.VARIANTS))
@pytest.mark.parametrize("d_steps", [1, 2])
def test_each_variant_step_repeats_the_checkpoint_recipe_bit_for_bit(name, d_steps):
    """Same weights, same draws in the same order: a re-made checkpoint would come out identical."""
    v = training.VARIANTS[name]
    X = torch.rand(3 * 32, 1, 28, 28, generator=torch.Generator().manual_seed(0)) * 2 - 1
    runs = []
    for step in (_old_gan_step(v.loss, d_steps), dataclasses.replace(v, d_steps=d_steps).step()):
        model = training.make_gan(name, latent_dim=8, channels=4)
        opt = {"G": torch.optim.Adam(model.G.parameters(), lr=v.lr_g, betas=v.betas),
               "D": torch.optim.Adam(model.D.parameters(), lr=v.lr_d, betas=v.betas)}
        torch.manual_seed(1)
        logs = [step(model, (X[i:i + 32],), opt) for i in range(0, len(X), 32)]
        runs.append((model.state_dict(), logs, torch.rand(1)))
    (old_state, old_logs, old_next), (new_state, new_logs, new_next) = runs
    assert old_logs == new_logs
    assert all(torch.equal(old_state[k], new_state[k]) for k in old_state)
    assert torch.equal(old_next, new_next)  # the global generator was used exactly as often


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
    assert history["train_g_loss"][1] == pytest.approx(sum(log.logs["g_loss"][10:]) / 10)
    assert not torch.equal(grids.frames[0], grids.frames[-1])


def test_sample_grids_are_taken_in_eval_mode_and_leave_the_mode_alone():
    model = models.GAN(models.Generator(latent_dim=8, channels=4), models.Discriminator(channels=4))
    with torch.no_grad():  # give batch norm running statistics that differ from any batch's own
        model.G.net[1].running_mean.fill_(3.0)
    z = torch.randn(6, 8)
    grids = training.SampleGrids(z, every=1)
    model.train()
    grids.on_batch_end(model, {})
    assert model.training and model.G.training  # fit's training mode is untouched
    model.eval()
    with torch.no_grad():
        assert torch.equal(grids.frames[0], model.G(z)), "the snapshot was not taken in eval mode"


def test_fit_variant_uses_the_given_z_and_refuses_pixels_in_0_255():
    model = training.make_gan("gan_dcgan", latent_dim=8, channels=4)
    X = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    z_fixed = torch.randn(5, 8, generator=torch.Generator().manual_seed(9))
    history, grids = training.fit_variant(model, "gan_dcgan", X, num_epochs=1, batch_size=32, snapshot_every=1,
                                          z_fixed=z_fixed)
    assert len(history) == 1 and grids.steps == [1, 2] and grids.frames[-1].shape == (5, 1, 28, 28)
    with torch.no_grad():
        assert torch.equal(grids.frames[-1], model.eval().G(z_fixed))  # the explicit z, not the default 36
    with pytest.raises(ValueError, match="divide by 255"):
        training.fit_variant(model, "gan_dcgan", X * 255, num_epochs=1, batch_size=32, snapshot_every=1)
    with pytest.raises(ValueError, match="divide by 255"):
        training.fit_variant(model, "gan_dcgan", (X * 255).to(torch.uint8), num_epochs=1, batch_size=32, snapshot_every=1)


def test_to_gan_range():
    x = torch.tensor([0.0, 0.25, 1.0])
    assert torch.equal(training.to_gan_range(x), torch.tensor([-1.0, -0.5, 1.0]))
    with pytest.raises(TypeError, match="divide by 255"):
        training.to_gan_range(torch.tensor([0, 128, 255], dtype=torch.uint8))  # today: would wrap around in uint8
    with pytest.raises(ValueError, match="divide by 255"):
        training.to_gan_range(torch.tensor([0.0, 128.0, 255.0]))


def test_load_variant_trains_on_the_given_images(monkeypatch):
    def no_download(*args, **kwargs):
        raise AssertionError("load_variant loaded Fashion-MNIST although X was given")

    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setattr(training.data, "load_fashion_mnist", no_download)
    monkeypatch.setattr(training, "SMOKE", {**training.SMOKE, "snapshot_every": 2})
    X = torch.rand(128, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    model, message, meta = training.load_variant("gan_dcgan", use_checkpoint=False, X=X)
    assert "from scratch" in message and not model.training
    frames, steps = training.frames_from_meta(meta)
    assert steps == [1, 2] and len(meta["d_loss"]) == 1  # 128 images = 2 batches of 64, one epoch


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


def test_pretrained_generator_contract_without_checkpoint(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")  # trains the tiny smoke version
    G, message = training.pretrained_generator(use_checkpoint=False)
    assert "from scratch" in message and not G.training
    x = G(torch.randn(3, G.latent_dim))
    assert x.shape == (3, 1, 28, 28) and x.min() >= -1 and x.max() <= 1


# ---------------------------------------------------------------- the committed checkpoints (they ship: missing = failure)


@pytest.mark.parametrize("name", sorted(training.CHECKPOINTS))
def test_checkpoint_is_small_checksummed_and_loads_with_weights_only(name):
    path = checkpoints.checkpoint_path(name)
    assert checkpoints.has_checkpoint(name), f"{path.name} is missing: run `python scripts/make_checkpoints.py {name}`"
    assert path.stat().st_size <= checkpoints.MAX_BYTES
    assert checkpoints.sha256_of(path) == checkpoints.REGISTRY[name].sha256
    saved = torch.load(path, map_location="cpu", weights_only=True)
    assert set(saved) == {"state_dict", "meta"}
    model = training.make_gan(name)
    assert set(model.state_dict()) == set(saved["state_dict"])  # the module structure the file was saved from
    meta = checkpoints.load_checkpoint(model, path)
    assert meta["variant"] == name and meta["train_seconds"] > 0
    frames, steps = training.frames_from_meta(meta)
    assert len(frames) >= 5 and steps == sorted(steps) and frames[0].shape == (36, 1, 28, 28)
    model.eval()
    with torch.no_grad():
        x = model.G(torch.randn(8, model.latent_dim))
    assert x.std() > 0.1  # a trained generator, not a constant image


def test_best_is_the_checkpoint_with_the_lowest_frechet_distance():
    assert all(checkpoints.has_checkpoint(n) for n in training.CHECKPOINTS), "a GAN checkpoint is missing"
    frechet = {n: torch.load(checkpoints.checkpoint_path(n), weights_only=True)["meta"]["frechet_5000"] for n in training.CHECKPOINTS}
    assert training.BEST == min(frechet, key=frechet.get), frechet


def test_registry_makers_live_where_checkpoints_py_says():
    makers = checkpoints.registry()
    for name in (*training.CHECKPOINTS, evaluation.CLASSIFIER):
        assert makers[name] is (training.CHECKPOINTS | evaluation.CHECKPOINTS)[name]


def test_critic_estimate_measures_the_score_gap_on_fixed_points():
    from course_utils import batches, train

    class _Shift(torch.nn.Module):  # critic f(x) = x[:, :1], so the estimate is mean(real[:, 0]) - mean(G(z)[:, 0])
        def forward(self, x):
            return x[:, :1]

    model = models.GAN(models.ToyGenerator(latent_dim=2, hidden_dim=8, depth=1), _Shift())
    real = torch.full((10, 2), 3.0)
    z = torch.randn(5, 2, generator=torch.Generator().manual_seed(0))
    trace = training.CriticEstimate(real, z, every=2)
    loader = batches.Batches(torch.randn(12, 2), batch_size=2, seed=0)
    optimizer = {"G": torch.optim.SGD(model.G.parameters(), lr=0.1), "D": torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=0.1)}
    noop = lambda model, batch, optimizer: {"loss": 0.0}  # noqa: E731 - nothing trains: G stays put
    train.fit(model, loader, num_epochs=1, optimizer=optimizer, step=noop, monitor=None, callbacks=[trace],
              verbose=False, live_plot=False)
    assert trace.steps == [1, 2, 4, 6]
    with torch.no_grad():
        want = 3.0 - model.G(z)[:, 0].mean().item()
    assert trace.estimates == pytest.approx([want] * 4, abs=1e-6)
    assert len(trace.frames) == 4 and trace.frames[0].shape == (5, 2)
    with pytest.raises(ValueError, match="every"):
        training.CriticEstimate(real, z, every=0)
    with pytest.raises(ValueError, match="z_fixed"):
        training.CriticEstimate(real, torch.zeros(0, 2), every=1)
