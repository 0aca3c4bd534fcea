import copy
import math
import time

import pytest
import torch

from course_utils import batches, checkpoints, train
from course_utils.vae import elbo, models, training

# ---------------------------------------------------------------- the hand-written loop this port replaced

def _old_one_cycle_lr(fraction, max_lr, pct_start=0.2):
    if fraction < pct_start:
        return max_lr / 25 + (max_lr - max_lr / 25) * fraction / pct_start
    progress = min(1.0, (fraction - pct_start) / (1 - pct_start))
    return max_lr / 25 / 1e4 + (max_lr - max_lr / 25 / 1e4) * 0.5 * (1 + math.cos(math.pi * progress))


def _old_fit_for_seconds(model, X, seconds, *, lr=2e-3, batch_size=128, channels_last=False, seed=0):
    """course_utils.vae.fit_for_seconds as it was before it went through train.fit (commit 00ac4e0)."""
    torch.manual_seed(seed)
    fmt = torch.channels_last if channels_last else torch.contiguous_format
    model.to(memory_format=fmt).train()
    loader = batches.Batches(X, batch_size=batch_size, shuffle=True, drop_last=True, seed=seed,
                             transform=(lambda t: t.contiguous(memory_format=fmt)) if channels_last else None)
    optimizer, step = torch.optim.Adam(model.parameters(), lr=lr), training.vae_step()
    start, records, seen = time.perf_counter(), [], 0
    while time.perf_counter() - start < seconds:
        epoch_start, totals, n = time.perf_counter(), {"nelbo": 0.0, "rec": 0.0, "kl": 0.0}, 0
        for batch in loader:
            fraction = (time.perf_counter() - start) / seconds
            if fraction >= 1:
                break
            for group in optimizer.param_groups:
                group["lr"] = _old_one_cycle_lr(fraction, lr)
            logs = step(model, batch, optimizer)
            for k in totals:
                totals[k] += logs[k] * len(batch[0])
            n += len(batch[0])
        seen += n
        if n:
            records.append({"epoch": seen / len(X), "seconds": time.perf_counter() - epoch_start,
                            **{k: v / n for k, v in totals.items()}})
    model.to(memory_format=torch.contiguous_format).eval()
    return records


@pytest.fixture
def step_clock(monkeypatch):
    """A wall clock that advances one second per optimizer step, so a time budget ends after a fixed step count."""
    clock = {"now": 0.0, "steps": 0, "lrs": []}
    real_step = elbo.vae_step

    def counting_vae_step(*args, **kwargs):
        step = real_step(*args, **kwargs)

        def counted(model, batch, optimizer=None):
            if optimizer is not None:
                clock["lrs"].append(optimizer.param_groups[0]["lr"])
            logs = step(model, batch, optimizer)
            if optimizer is not None:
                clock["now"] += 1.0
                clock["steps"] += 1
            return logs

        return counted

    monkeypatch.setattr(time, "perf_counter", lambda: clock["now"])
    monkeypatch.setattr(training, "vae_step", counting_vae_step)
    return clock


@pytest.mark.parametrize("kind", ["mlp", "conv", "conv_head"])
def test_fit_for_seconds_through_train_fit_is_bit_identical_to_the_old_loop(step_clock, kind):
    X = torch.rand(48, 1, 28, 28, generator=torch.Generator().manual_seed(0))  # 3 batches of 16 per epoch
    make = {"mlp": lambda: models.MLPVAE(4, 16), "conv": lambda: models.ConvVAE(4, (2, 4)),
            "conv_head": lambda: models.ConvHeadVAE(4, 16, 4, 4)}[kind]
    settings = {"lr": 3e-3, "batch_size": 16, "channels_last": kind == "conv", "seed": 3}
    runs = {}
    for name, fit in [("old", _old_fit_for_seconds), ("new", training.fit_for_seconds)]:
        torch.manual_seed(123)
        model = make()
        step_clock.update(now=0.0, steps=0, lrs=[])
        records = fit(model, X, 7.5, **settings)  # 8 steps of 1 "second": 2 epochs and 2 batches of a third
        runs[name] = model, records, step_clock["steps"], list(step_clock["lrs"])
    (old, old_records, old_steps, old_lrs), (new, new_records, new_steps, new_lrs) = runs["old"], runs["new"]
    assert old_steps == new_steps == 8
    assert new_lrs == old_lrs and new_lrs[0] == pytest.approx(3e-3 / 25) and max(new_lrs) < 3e-3
    for (key, a), b in zip(old.state_dict().items(), new.state_dict().values()):
        assert torch.equal(a, b), f"{key} differs"
    assert [r["epoch"] for r in new_records] == [r["epoch"] for r in old_records] == [1.0, 2.0, 8 / 3]
    for a, b in zip(old_records, new_records):
        assert {k: a[k] for k in ("nelbo", "rec", "kl")} == {k: b[k] for k in ("nelbo", "rec", "kl")}
    assert not new.training and all(p.is_contiguous() for p in new.parameters())


def test_one_cycle_budget_follows_torchs_one_cycle_shape():
    budget = training.OneCycleTimeBudget(torch.optim.SGD([torch.zeros(1, requires_grad=True)], lr=1.0), 10, max_lr=1.0)
    assert budget.lr_at(0.0) == pytest.approx(1 / 25)  # starts at max_lr / div_factor
    assert budget.lr_at(0.1) == pytest.approx(1 / 25 + (1 - 1 / 25) / 2)  # linear warm-up
    assert budget.lr_at(0.2) == pytest.approx(1.0)  # the peak at pct_start
    assert budget.lr_at(0.6) == pytest.approx((1 + 1 / 25 / 1e4) / 2)  # half-way down the cosine
    assert budget.lr_at(1.0) == pytest.approx(1 / 25 / 1e4)  # ends at max_lr / div_factor / final_div_factor
    assert budget.lr_at(1.5) == budget.lr_at(1.0)
    with pytest.raises(ValueError, match="max_lr"):
        training.OneCycleTimeBudget(budget.optimizer, 10, max_lr=0)


def test_fit_for_seconds_keeps_to_its_budget_in_real_time():
    X = torch.rand(256, 1, 28, 28)
    start = time.perf_counter()
    records = training.fit_for_seconds(models.MLPVAE(4, 16), X, 0.5, batch_size=64)
    assert time.perf_counter() - start < 1.5
    assert records and sum(r["seconds"] for r in records) < 1.5
    assert all(records[i]["epoch"] < records[i + 1]["epoch"] for i in range(len(records) - 1))


def test_fit_vae_trains_and_uses_the_arguments_it_is_given():
    X = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    start = models.MLPVAE(4, 16)
    first, same, other, slow, fast = (copy.deepcopy(start) for _ in range(5))
    history = training.fit_vae(first, X, num_epochs=2, batch_size=16, seed=1)
    assert len(history) == 2 and history["train_nelbo"][1] < history["train_nelbo"][0]
    assert set(history.keys()) >= {"train_loss", "train_nelbo", "train_rec", "train_kl"}
    training.fit_vae(same, X, num_epochs=2, batch_size=16, seed=1)
    training.fit_vae(other, X, num_epochs=2, batch_size=16, seed=2)  # an explicit seed is not overridden
    assert torch.equal(first.to_stats.weight, same.to_stats.weight)
    assert not torch.equal(first.to_stats.weight, other.to_stats.weight)
    training.fit_vae(slow, X, num_epochs=3, batch_size=16, lr=1e-6)  # an explicit lr is the one-cycle peak (12 steps)
    training.fit_vae(fast, X, num_epochs=3, batch_size=16, lr=1e-2)
    moved = {name: (m.to_stats.weight - start.to_stats.weight).abs().max().item() for name, m in [("slow", slow), ("fast", fast)]}
    assert moved["slow"] < moved["fast"] / 100


def test_fit_vae_seed_decides_the_batch_order(monkeypatch):
    monkeypatch.setattr(models, "reparameterize", lambda mu, logvar: mu)  # no noise: only the batch order is random
    X = torch.rand(64, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    start = models.MLPVAE(4, 16)
    runs = {seed: copy.deepcopy(start) for seed in (1, 2)}
    for seed, model in runs.items():
        training.fit_vae(model, X, num_epochs=1, batch_size=16, seed=seed)
    assert not torch.equal(runs[1].to_stats.weight, runs[2].to_stats.weight)


def test_fit_vae_trains_a_conditional_vae_on_aligned_labels():
    X = torch.rand(64, 1, 28, 28)
    y = torch.arange(64) % 10
    history = training.fit_vae(models.CVAE(4, 16), X, y, num_epochs=1, batch_size=16)
    assert len(history) == 1


def test_fit_vae_stops_on_divergence_with_finite_weights():
    X = torch.rand(64, 1, 28, 28)
    model = models.MLPVAE(4, 16)
    with torch.no_grad():
        model.to_stats.bias[4:] = 200.0  # logvar = 200: exp overflows, the KL is inf on the first batch
    with pytest.raises(train.NonFiniteLoss, match="epoch 1, batch 1"):
        training.fit_vae(model, X, num_epochs=1, batch_size=16)
    assert all(torch.isfinite(p).all() for p in model.parameters())


@pytest.mark.parametrize("trainer", ["fit_vae", "fit_for_seconds", "negative_elbo"])
def test_pixels_in_0_255_are_refused_with_divide_by_255(trainer):
    X = torch.randint(0, 256, (32, 1, 28, 28)).float()  # pixels as they come from the files
    model = models.MLPVAE(4, 16)
    call = {"fit_vae": lambda: training.fit_vae(model, X, num_epochs=1, batch_size=16),
            "fit_for_seconds": lambda: training.fit_for_seconds(model, X, 1.0, batch_size=16),
            "negative_elbo": lambda: elbo.negative_elbo(model, X)}[trainer]
    before = [p.clone() for p in model.parameters()]
    with pytest.raises(ValueError, match="divide by 255"):
        call()
    assert all(torch.equal(a, b) for a, b in zip(before, model.parameters()))  # refused before any step
    assert elbo.negative_elbo(model, X / 255)["nelbo"] < 1e4  # the fix the message names works


@pytest.mark.parametrize("name", sorted(training.CHECKPOINTS))
def test_checkpoints_load_match_registry_digest_and_are_small(name):
    # shipped checkpoints: missing is a failure, not a skip
    assert checkpoints.has_checkpoint(name), f"checkpoint {name} is missing (scripts/make_checkpoints.py {name})"
    path = checkpoints.checkpoint_path(name)
    assert path.stat().st_size <= checkpoints.MAX_BYTES
    assert checkpoints.sha256_of(path) == checkpoints.REGISTRY[name].sha256
    assert checkpoints.REGISTRY[name].module == training.__name__
    model = training.race_models()[name.removeprefix("vae_")]
    meta = checkpoints.load_checkpoint(model, path)  # strict: the state_dict keys of the race models are unchanged
    assert {"num_epochs", "fit_seconds", "train_nelbo", "test_nelbo"} <= set(meta)
    assert len(meta["train_nelbo"]) == len(meta["epoch_seconds"]) == len(meta["epochs"])
    assert meta["epochs"][-1] == pytest.approx(meta["num_epochs"], abs=0.01)
    x = torch.rand(4, 1, 28, 28)
    assert model.eval().decode(model.means(x)).shape == (4, 1, 28, 28)
