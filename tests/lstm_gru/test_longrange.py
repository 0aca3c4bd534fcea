"""Chapter 03's long-range experiments: the ports to train.fit reproduce the old hand-written loops bit for bit."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import train
from course_utils.lstm_gru import longrange, models
from course_utils.rnn_bptt import tasks


def reference_adding(model, length, steps, *, batch_size=64, lr=2e-3, max_norm=1.0, eval_every=100, target_mse=0.0,
                     seed=0):
    """The loop ``longrange.train_adding`` ran before it went through ``train.fit`` (timing left out)."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    curve = {"step": [0], "mse": [longrange.adding_mse(model, length, 500)]}
    for step in range(1, steps + 1):
        X, y = tasks.adding_problem(batch_size, length, generator=g)
        loss = F.mse_loss(model(X)[:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        if step % eval_every == 0 or step == steps:
            curve["step"].append(step)
            curve["mse"].append(longrange.adding_mse(model, length, 500))
            if curve["mse"][-1] < target_mse:
                break
    curve["test_mse"] = longrange.adding_mse(model, length)
    return curve


def reference_recall(model, distance, steps, *, batch_size=128, lr=3e-3, max_norm=1.0, seed=0):
    """The loop ``longrange.train_recall`` ran before (chapter 02's ``train_recall``)."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        X, y = tasks.recall_task(batch_size, distance, generator=g)
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    X, y = tasks.recall_task(2000, distance, generator=torch.Generator().manual_seed(12345))
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


def same_weights(a, b):
    return all(torch.equal(p, q) for p, q in zip(a.state_dict().values(), b.state_dict().values(), strict=True))


def twins(kind, **kwargs):
    torch.manual_seed(0)
    a = models.LastStepModel(kind, **kwargs)
    torch.manual_seed(0)
    return a, models.LastStepModel(kind, **kwargs)


def test_fit_adding_reproduces_the_old_loop_bit_for_bit():
    """200 steps at length 50 (about 5 s): the same weights, the same curve (the same draws in the same order)."""
    old, new = twins("lstm", input_dim=2, output_dim=1)
    want = reference_adding(old, 50, 200)
    got = longrange.fit_adding(new, 50, 200)
    assert same_weights(old, new)
    assert got["step"] == want["step"] == [0, 100, 200] and got["mse"] == want["mse"] and got["test_mse"] == want["test_mse"]
    assert len(got["seconds"]) == 3 and got["seconds"][0] == 0 < got["seconds"][1] < got["seconds"][2]


def test_fit_adding_stops_at_the_target_like_the_old_loop():
    old, new = twins("rnn", input_dim=2, output_dim=1)
    want = reference_adding(old, 20, 100, eval_every=10, target_mse=0.3)
    got = longrange.fit_adding(new, 20, 100, eval_every=10, target_mse=0.3)
    assert got["step"] == want["step"] and got["step"][-1] < 100, "the run must stop early for this test to mean anything"
    assert got["mse"][-1] < 0.3 <= min(got["mse"][:-1]) and same_weights(old, new)


def test_fit_recall_reproduces_the_old_loop_bit_for_bit():
    old, new = twins("lstm", input_dim=16, output_dim=8, vocab_size=8)
    want = reference_recall(old, 10, 60)
    assert longrange.fit_recall(new, 10, 60) == want
    assert same_weights(old, new)


def test_adding_mse_is_measured_in_eval_mode_and_per_sequence():
    class Noisy(nn.Module):
        """Predicts the target plus dropout-scaled noise: exact in eval mode, noisy in train mode."""

        def __init__(self):
            super().__init__()
            self.drop = nn.Dropout(0.5)

        def forward(self, X):
            target = (X[:, :, 0] * X[:, :, 1]).sum(1, keepdim=True)
            return target + self.drop(torch.ones_like(target))

    model = Noisy().train()
    assert longrange.adding_mse(model, 30, num_sequences=64) == pytest.approx(1.0)   # ones, never dropped
    assert model.training


def test_adding_models_are_seeded_and_keyed_by_kind_and_length():
    a, b = longrange.adding_models((20, 40)), longrange.adding_models((20, 40))
    assert list(a) == [f"{k}_t{T}" for k in longrange.KINDS for T in (20, 40)]
    assert same_weights(a, b)


def test_fit_adding_all_trains_each_model_at_its_length():
    nets = longrange.adding_models((20,))
    curves = longrange.fit_adding_all(nets, 5, (20,))
    assert set(curves) == set(nets) and all(c["step"][-1] == 5 for c in curves.values())
    assert not any(m.training for m in nets.values())   # train.fit leaves the models in eval mode
    with pytest.raises(ValueError, match="lengths"):
        longrange.fit_adding_all(nets, 5, (40,))


def test_mse_step_clips_and_measures_without_training():
    torch.manual_seed(0)
    model = longrange.adding_model("gru", hidden_dim=8)
    batch = tasks.adding_problem(16, 10, generator=torch.Generator().manual_seed(0))
    before = [p.detach().clone() for p in model.parameters()]
    logs = longrange.mse_step(1.0)(model, batch, None)
    assert set(logs) == {"loss"} and all(torch.equal(p, q) for p, q in zip(before, model.parameters()))
    seen = []
    optimizer = torch.optim.SGD(model.parameters(), lr=0.0)
    optimizer.step = lambda: seen.append(torch.stack([p.grad.norm() for p in model.parameters()]).norm().item())
    longrange.mse_step(1e-3)(model, batch, optimizer)
    assert seen[0] == pytest.approx(1e-3, rel=1e-3)


def test_a_stop_inside_fit_keeps_the_last_weights():
    """fit_adding's callback stops training; monitor=None means fit must not roll back to an earlier epoch."""
    torch.manual_seed(0)
    model = longrange.adding_model("lstm", hidden_dim=8)
    start = [p.detach().clone() for p in model.parameters()]
    curve = longrange.fit_adding(model, 10, 30, eval_every=10, target_mse=10.0)   # stops at the first evaluation
    assert curve["step"] == [0, 10]
    assert not all(torch.equal(p, q) for p, q in zip(start, model.parameters()))
    assert isinstance(longrange.AddingCurve(10, 30), train.Callback)
