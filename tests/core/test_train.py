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
    assert seen == [None, opts, None]  # one validation batch checked before training, then train, then validate


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
        train.fit(nn.Linear(1, 1), [], num_epochs=0, optimizer="x")
    with pytest.raises(ValueError, match="mode must be 'min' or 'max'"):
        train.fit(nn.Linear(1, 1), [], num_epochs=1, optimizer="x", mode="best")
    with pytest.raises(ValueError, match="empty loader"):
        train.evaluate(nn.Linear(1, 1), [])
    with pytest.raises(TypeError, match="takes a tensor"):
        train.predict(nn.Linear(1, 1), [[1.0]])
    assert train.count_parameters(nn.Linear(3, 2)) == 8
    assert train.predict(nn.Linear(3, 2), torch.zeros(5, 3), batch_size=2).shape == (5, 2)
    with pytest.raises(AttributeError, match="Linear has no method 'encode'"):
        train.predict(nn.Linear(3, 2), torch.zeros(5, 3), method="encode")


def _linear_data(n=64):
    g = torch.Generator().manual_seed(0)
    X = torch.randn(n, 3, generator=g)
    return X, X @ torch.tensor([1.0, -2.0, 0.5])[:, None]


def _mse_step(model, batch, optimizer=None):
    loss = nn.functional.mse_loss(model(batch[0]), batch[1])
    if optimizer is not None:
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return {"loss": loss.item()}


def test_fit_refuses_to_train_without_an_optimizer():
    X, y = _linear_data()
    with pytest.raises(ValueError, match="optimizer is None.*train.evaluate"):
        train.fit(nn.Linear(3, 1), Batches(X, y, batch_size=16), num_epochs=1, optimizer=None, step=_mse_step)


def test_fit_stops_on_a_non_finite_loss_and_restores_the_last_finite_weights():
    X, y = _linear_data()
    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    train.fit(model, Batches(X, y, batch_size=16), num_epochs=2, optimizer=opt, step=_mse_step, monitor=None,
              live_plot=False, verbose=False)
    good = {k: v.clone() for k, v in model.state_dict().items()}
    opt = torch.optim.SGD(model.parameters(), lr=1e6)  # diverges within the first epoch
    with pytest.raises(train.NonFiniteLoss, match=r"epoch 1, batch \d+.*lower learning rate"):
        train.fit(model, Batches(X * 1e3, y, batch_size=16), num_epochs=3, optimizer=opt, step=_mse_step, monitor=None,
                  live_plot=False, verbose=False)
    assert all(torch.equal(good[k], v) for k, v in model.state_dict().items())
    assert all(torch.isfinite(v).all() for v in model.state_dict().values())


def test_fit_checks_the_monitor_name_and_the_validation_data_before_training():
    X, y = _linear_data()
    calls = []

    def step(model, batch, optimizer=None):
        calls.append(optimizer)
        return _mse_step(model, batch, optimizer)

    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.01)
    with pytest.raises(ValueError, match="monitor='val_acc'.*records \\['loss'\\]"):
        train.fit(model, Batches(X, y, batch_size=16), num_epochs=2, optimizer=opt, step=step,
                  val_loader=Batches(X, y, batch_size=16), monitor="val_acc", live_plot=False, verbose=False)
    assert calls == [None], "no training batch may run before the monitor is checked"
    with pytest.raises(ValueError, match="needs a val_loader"):
        train.fit(model, Batches(X, y, batch_size=16), num_epochs=1, optimizer=opt, step=step, monitor="val_loss")
    with pytest.raises(ValueError, match="monitor must be"):
        train.fit(model, Batches(X, y, batch_size=16), num_epochs=1, optimizer=opt, step=step, monitor="loss")
    bad_val = Batches(torch.zeros(8, 5), torch.zeros(8, 1), batch_size=4)  # 5 features for a 3-input model
    calls.clear()
    with pytest.raises(RuntimeError):
        train.fit(model, Batches(X, y, batch_size=16), num_epochs=2, optimizer=opt, step=step, val_loader=bad_val,
                  live_plot=False, verbose=False)
    assert calls == [None]


def test_the_validation_precheck_leaves_random_state_alone():
    X, y = _linear_data()

    def noisy_step(model, batch, optimizer=None):
        return _mse_step(model, (batch[0] + 0.1 * torch.randn_like(batch[0]), batch[1]), optimizer)

    loader = Batches(X, y, batch_size=16, shuffle=True, seed=1)
    torch.manual_seed(0)
    model = nn.Linear(3, 1)
    global_before, loader_before = torch.get_rng_state(), loader.generator.get_state()
    train._first_logs(model, loader, noisy_step)
    assert torch.equal(torch.get_rng_state(), global_before), "the check must not shift the run's random numbers"
    assert torch.equal(loader.generator.get_state(), loader_before), "... nor the loader's shuffling"


def test_a_callback_can_stop_training_and_the_best_weights_come_back():
    X, y = _linear_data()

    class StopAfter(train.Callback):
        def __init__(self, n):
            self.n, self.seen = n, 0

        def on_batch_end(self, model, logs):
            self.seen += 1
            if self.seen == self.n:
                raise train.StopTraining("enough batches")

    model = nn.Linear(3, 1)
    opt = torch.optim.SGD(model.parameters(), lr=0.05)
    history = train.fit(model, Batches(X, y, batch_size=16), num_epochs=10, optimizer=opt, step=_mse_step,
                        callbacks=[StopAfter(6)], live_plot=False, verbose=False)
    assert len(history) == 2 and history.stopped_by == "enough batches"  # 4 batches per epoch: stopped in epoch 2
    assert not model.training


def test_time_budget_stops_training():
    X, y = _linear_data()
    model = nn.Linear(3, 1)
    budget = train.TimeBudget(1e-9)
    history = train.fit(model, Batches(X, y, batch_size=16), num_epochs=5, optimizer=torch.optim.SGD(model.parameters(), lr=0.01),
                        step=_mse_step, callbacks=[budget], monitor=None, live_plot=False, verbose=False)
    assert budget.stopped and len(history) == 1 and "time budget" in history.stopped_by
    with pytest.raises(ValueError, match="seconds must be a positive number"):
        train.TimeBudget(0)


def test_classification_step_clips_the_gradient():
    model = nn.Linear(4, 3)
    X, y = torch.randn(32, 4) * 100, torch.randint(0, 3, (32,))
    seen = {}
    opt = torch.optim.SGD(model.parameters(), lr=0.0)
    real_step = opt.step

    def spy():
        seen["norm"] = torch.cat([p.grad.flatten() for p in model.parameters()]).norm().item()
        real_step()

    opt.step = spy
    train.classification_step(max_norm=0.5)(model, (X, y), opt)
    assert seen["norm"] == pytest.approx(0.5, rel=1e-4)
    with pytest.raises(ValueError, match="max_norm must be a positive number"):
        train.classification_step(max_norm=0)


def test_fresh_batches_repeat_for_a_seed_and_differ_between_batches():
    from course_utils.batches import FreshBatches

    make = lambda g: (torch.rand(4, 2, generator=g), torch.rand(4, generator=g))  # noqa: E731
    a, b = list(FreshBatches(make, 3, seed=5)), list(FreshBatches(make, 3, seed=5))
    assert len(a) == 3 and all(torch.equal(x[0], z[0]) for x, z in zip(a, b))
    assert not torch.equal(a[0][0], a[1][0])
    with pytest.raises(ValueError, match="num_batches must be a positive int"):
        FreshBatches(make, 0)
    with pytest.raises(TypeError, match="tuple of tensors"):
        list(FreshBatches(lambda g: [1, 2], 1))


def test_eval_mode_restores_training_mode():
    model = nn.Dropout(0.5)
    model.train()
    with train.eval_mode(model):
        assert not model.training and not torch.is_grad_enabled()
    assert model.training
