import pytest
import torch
import torch.nn as nn

from course_utils import train
from course_utils.batches import Batches


def _blobs(n=400, seed=0):
    g = torch.Generator().manual_seed(seed)
    y = torch.randint(0, 2, (n,), generator=g)
    X = torch.randn(n, 2, generator=g) * 0.7 + (y[:, None].float() * 2 - 1) * 1.5
    return X, y


def test_fit_lowers_the_loss_and_reports_accuracy():
    torch.manual_seed(0)
    X, y = _blobs()
    model = nn.Sequential(nn.Linear(2, 16), nn.ReLU(), nn.Linear(16, 2))
    before = train.evaluate(model, Batches(X, y, batch_size=100))
    history = train.fit(model, Batches(X, y, batch_size=32, shuffle=True, seed=0), num_epochs=5,
                        optimizer=torch.optim.SGD(model.parameters(), lr=0.1), val_loader=Batches(X, y, batch_size=100),
                        live_plot=False, verbose=False)
    assert len(history) == 5 and history.keys()[:3] == ["epoch", "train_loss", "train_acc"]
    assert history["val_loss"][-1] < 0.5 * before["loss"]
    assert history["val_acc"][-1] > 0.95
    assert not model.training  # left in eval mode


class _Scripted(nn.Module):
    """A one-number model whose 'training' sets its weight from a script, to test best-weight restoring."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(()))


def _scripted_step(values, interrupt_at=None):
    calls = {"n": 0}

    def step(model, batch, optimizer=None):
        if optimizer is not None:
            if interrupt_at is not None and calls["n"] == interrupt_at:
                raise KeyboardInterrupt
            with torch.no_grad():
                model.w.fill_(values[calls["n"]])
            calls["n"] += 1
        return {"loss": abs(model.w.item() - 1.0)}

    return step


def test_best_weights_are_restored():
    model = _Scripted()
    loader = [(torch.zeros(1),)]
    history = train.fit(model, loader, num_epochs=4, optimizer="unused", step=_scripted_step([3.0, 1.25, 2.0, 4.0]),
                        val_loader=loader, live_plot=False, verbose=False)
    assert history["val_loss"] == [2.0, 0.25, 1.0, 3.0]
    assert history.best_epoch == 2 and model.w.item() == 1.25


def test_monitor_none_keeps_last_weights_and_max_mode():
    loader = [(torch.zeros(1),)]
    model = _Scripted()
    train.fit(model, loader, num_epochs=3, optimizer="x", step=_scripted_step([3.0, 1.0, 2.0]), monitor=None,
              live_plot=False, verbose=False)
    assert model.w.item() == 2.0
    model = _Scripted()
    h = train.fit(model, loader, num_epochs=3, optimizer="x", step=_scripted_step([3.0, 1.0, 2.0]), mode="max",
                  live_plot=False, verbose=False)
    assert h.best_epoch == 1 and model.w.item() == 3.0


def test_keyboard_interrupt_stops_cleanly_with_best_weights(capsys):
    model = _Scripted()
    loader = [(torch.zeros(1),)]
    history = train.fit(model, loader, num_epochs=10, optimizer="x", step=_scripted_step([0.5, 3.0], interrupt_at=2),
                        live_plot=False)
    assert history.interrupted and len(history) == 2
    assert model.w.item() == 0.5  # best epoch (1), and the model is still usable
    assert "Interrupted during epoch 3" in capsys.readouterr().out


def test_step_receives_whatever_optimizer_is_given():
    seen = []

    def step(model, batch, optimizer=None):
        seen.append(optimizer)
        return {"loss": 0.0}

    opts = {"d": object(), "g": object()}
    train.fit(nn.Linear(1, 1), [(torch.zeros(1),)], num_epochs=1, optimizer=opts, step=step, val_loader=[(torch.zeros(1),)],
              live_plot=False, verbose=False)
    assert seen == [opts, None]


def test_evaluate_weights_by_batch_size():
    def step(model, batch, optimizer=None):
        return {"loss": float(batch[0][0])}

    loader = [(torch.full((3,), 1.0),), (torch.full((1,), 5.0),)]
    assert train.evaluate(nn.Linear(1, 1), loader, step)["loss"] == pytest.approx((3 * 1 + 1 * 5) / 4)


def test_scheduler_steps_every_batch():
    model = nn.Linear(2, 2)
    opt = torch.optim.SGD(model.parameters(), lr=1.0)
    sched = torch.optim.lr_scheduler.LambdaLR(opt, lambda i: 1 / (1 + i))
    X, y = _blobs(40)
    train.fit(model, Batches(X, y, batch_size=10), num_epochs=2, optimizer=opt, scheduler=sched, live_plot=False, verbose=False)
    assert opt.param_groups[0]["lr"] == pytest.approx(1 / 9)


def test_bad_arguments_and_helpers():
    with pytest.raises(ValueError, match="num_epochs must be a positive int"):
        train.fit(nn.Linear(1, 1), [], num_epochs=0)
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        train.fit(nn.Linear(1, 1), [], num_epochs=1, mode="best")
    with pytest.raises(ValueError, match="empty loader"):
        train.evaluate(nn.Linear(1, 1), [])
    with pytest.raises(TypeError, match="takes a tensor"):
        train.predict(nn.Linear(1, 1), [[1.0]])
    assert train.count_parameters(nn.Linear(3, 2)) == 8
    assert train.predict(nn.Linear(3, 2), torch.zeros(5, 3), batch_size=2).shape == (5, 2)
    with pytest.raises(AttributeError, match="Linear has no method 'encode'"):
        train.predict(nn.Linear(3, 2), torch.zeros(5, 3), method="encode")
