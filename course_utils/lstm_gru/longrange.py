"""Chapter 02's long-range experiments rerun with three recurrent layers: plain RNN, LSTM and GRU.

Introduced in chapter 03 (LSTM and GRU), §4-§5. The tasks come from ``rnn_bptt.tasks`` (chapter 02):
``recall_task`` (remember the first token over ``distance`` steps) and ``adding_problem`` (add two marked
numbers in a sequence of ``length`` steps); the model is ``models.LastStepModel``.

- ``recall_model``: a fresh recall classifier for one of ``RECALL_VARIANTS`` (RNN, LSTM, LSTM with its forget
  gates opened at the start, GRU).
- ``fit_recall``: chapter 02's recall experiment (written out there as ``train_recall``, ``02_rnn_bptt`` §7 and §10)
  as one call of ``train.fit`` on ``batches.FreshBatches``, clipping in the step; returns the test accuracy.
- ``fit_adding``: the same for the adding problem, with ``AddingCurve``, a callback that measures the MSE
  every ``eval_every`` steps and stops training (``train.StopTraining``) once it falls below ``target_mse``;
  returns the curve as plain lists, so it can be stored in a checkpoint's meta. Both are shown in §4.
- ``CHECKPOINTS["longrange_adding_t50"]`` (and ``_t100``, ``_t200``): the adding problem for the three
  models at one length, too slow for the notebook's time budget
  (``scripts/make_checkpoints.py longrange_adding_t50 longrange_adding_t100 longrange_adding_t200``).
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import rnn_bptt, train
from ..batches import FreshBatches
from . import models

KINDS = ("rnn", "lstm", "gru")
RECALL_VARIANTS = {"rnn": ("rnn", None), "lstm": ("lstm", None), "lstm_bias3": ("lstm", 3.0), "gru": ("gru", None)}
"""§4's recall models: (kind, gate_bias) by name; 'lstm_bias3' starts its forget gates at sigmoid(3) = 0.95."""
RECALL_STEPS, RECALL_BATCH = 500, 128   # chapter 02's budget per recall run: 500 Adam steps of 128 sequences
ADDING_BATCH = 64
ADDING_LENGTHS = (50, 100, 200)
ADDING_STEPS = {50: 3000, 100: 3000, 200: 5000}  # at most this many Adam steps per model, by length (full size)
ADDING_TARGET_MSE = 1e-3     # ... or until the test MSE falls below this (checked every 100 steps)
ADDING_HIDDEN = 64


def _check_ints(minimum: int, **values) -> None:
    for name, value in values.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < minimum:
            raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}.")


def adding_model(kind: str, hidden_dim: int = ADDING_HIDDEN) -> models.LastStepModel:
    """The adding-problem regressor: 2 inputs per step (value, marker) -> one number."""
    return models.LastStepModel(kind, input_dim=2, output_dim=1, hidden_dim=hidden_dim)


def adding_mse(model: nn.Module, length: int, num_sequences: int = 2000, seed: int = 12345) -> float:
    """Test MSE on fresh adding-problem sequences, in eval mode (always answering 1.0 scores ``ADDING_BASELINE_MSE``)."""
    _check_ints(2, length=length)
    _check_ints(1, num_sequences=num_sequences)
    X, y = rnn_bptt.tasks.adding_problem(num_sequences, length, generator=torch.Generator().manual_seed(seed))
    with train.eval_mode(model):
        return F.mse_loss(model(X)[:, 0], y).item()


def mse_step(max_norm: float | None = None):
    """A ``train.fit`` step for ``model(X) -> (B, 1)`` regressing ``y`` (B,): returns {'loss'} (the batch MSE).

    ``max_norm`` clips the gradient's total norm before each update.
    """
    if max_norm is not None and not (isinstance(max_norm, int | float) and max_norm > 0):
        raise ValueError(f"max_norm must be a number > 0 or None, not {max_norm!r}.")

    def step(model, batch, optimizer=None):
        X, y = batch
        loss = F.mse_loss(model(X)[:, 0], y)
        if optimizer is not None:
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            if max_norm is not None:
                nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
        return {"loss": loss.item()}

    return step


class AddingCurve(train.Callback):
    """Every ``eval_every`` steps (and after the last): the MSE on 500 fresh sequences; stops below ``target_mse``.

    ``curve`` holds ``step``, ``mse`` and ``seconds`` (training time so far, evaluations not counted), from step 0.
    """

    def __init__(self, length: int, num_steps: int, eval_every: int = 100, target_mse: float = 0.0):
        if not (isinstance(target_mse, int | float) and target_mse >= 0):
            raise ValueError(f"target_mse must be a number >= 0 (0: never stop early), not {target_mse!r}.")
        self.length, self.num_steps, self.eval_every, self.target_mse = length, num_steps, eval_every, target_mse
        self.curve = {"step": [], "mse": [], "seconds": []}
        self.steps, self.seconds, self.tick = 0, 0.0, 0.0

    def record(self, model) -> None:
        self.curve["step"].append(self.steps)
        self.curve["mse"].append(adding_mse(model, self.length, 500))
        self.curve["seconds"].append(self.seconds)

    def on_epoch_start(self, model, epoch):
        if not self.curve["step"]:
            self.record(model)                         # step 0: the untrained model
        self.tick = time.perf_counter()

    def on_batch_end(self, model, logs):
        self.steps += 1
        self.seconds += time.perf_counter() - self.tick
        if self.steps % self.eval_every == 0 or self.steps == self.num_steps:
            self.record(model)
            if self.curve["mse"][-1] < self.target_mse:
                raise train.StopTraining(f"MSE {self.curve['mse'][-1]:.2g} < {self.target_mse:g} after {self.steps} steps")
        self.tick = time.perf_counter()


def fit_adding(model: nn.Module, length: int, num_steps: int, *, batch_size: int = ADDING_BATCH, lr: float = 2e-3,
               max_norm: float = 1.0, eval_every: int = 100, target_mse: float = 0.0, seed: int = 0) -> dict:
    """Adam with clipping on ``num_steps`` fresh adding-problem batches; returns {'step', 'mse', 'seconds', 'test_mse'}.

    ``AddingCurve`` measures the MSE (500 fresh sequences) every ``eval_every`` steps and ends training early once
    it falls below ``target_mse``. The model keeps its last weights; ``test_mse`` is measured on 2,000 sequences.
    """
    if not all(isinstance(n, int) and n >= 1 for n in (num_steps, eval_every, batch_size)):
        raise ValueError(f"num_steps, eval_every and batch_size must be ints >= 1, not {num_steps!r}, {eval_every!r}, {batch_size!r}.")
    curve = AddingCurve(length, num_steps, eval_every, target_mse)
    batches = FreshBatches(lambda g: rnn_bptt.tasks.adding_problem(batch_size, length, generator=g), num_steps, seed=seed)
    train.fit(model, batches, num_epochs=1, optimizer=torch.optim.Adam(model.parameters(), lr=lr), step=mse_step(max_norm),
              monitor=None, callbacks=[curve], live_plot=False, verbose=False)
    return {**curve.curve, "test_mse": adding_mse(model, length)}


def fit_recall(model: nn.Module, distance: int, num_steps: int = RECALL_STEPS, *, batch_size: int = RECALL_BATCH, lr: float = 3e-3,
               max_norm: float = 1.0, seed: int = 0) -> float:
    """Adam with clipping on ``num_steps`` fresh recall batches (chapter 02's experiment); returns the test accuracy."""
    if not all(isinstance(n, int) and n >= 1 for n in (distance, num_steps, batch_size)):
        raise ValueError(f"distance, num_steps and batch_size must be ints >= 1, not {distance!r}, {num_steps!r}, {batch_size!r}.")
    batches = FreshBatches(lambda g: rnn_bptt.tasks.recall_task(batch_size, distance, generator=g), num_steps, seed=seed)
    train.fit(model, batches, num_epochs=1, optimizer=torch.optim.Adam(model.parameters(), lr=lr),
              step=train.classification_step(max_norm=max_norm), monitor=None, live_plot=False, verbose=False)
    X, y = rnn_bptt.tasks.recall_task(2000, distance, generator=torch.Generator().manual_seed(12345))
    with train.eval_mode(model):
        return (model(X).argmax(1) == y).float().mean().item()


def recall_model(variant: str) -> models.LastStepModel:
    """A fresh recall classifier (8 tokens embedded in 16 dimensions, 64 units) for a name of ``RECALL_VARIANTS``."""
    if not isinstance(variant, str) or variant not in RECALL_VARIANTS:
        raise ValueError(f"variant must be one of {', '.join(RECALL_VARIANTS)}, not {variant!r}.")
    kind, gate_bias = RECALL_VARIANTS[variant]
    return models.LastStepModel(kind, input_dim=16, output_dim=8, vocab_size=8, gate_bias=gate_bias)


def adding_models(lengths=ADDING_LENGTHS, hidden_dim: int = ADDING_HIDDEN) -> nn.ModuleDict:
    """One fresh, seeded adding model per kind and length, keyed like ``'lstm_t200'``."""
    if isinstance(lengths, int) or not lengths:
        raise ValueError(f"lengths must be a non-empty tuple of sequence lengths, e.g. (50,), not {lengths!r}.")
    _check_ints(2, **{f"lengths[{i}]": length for i, length in enumerate(lengths)})
    nets = nn.ModuleDict()
    for kind in KINDS:
        for length in lengths:
            torch.manual_seed(0)
            nets[f"{kind}_t{length}"] = adding_model(kind, hidden_dim)
    return nets


def fit_adding_all(nets: nn.ModuleDict, num_steps: int, lengths=ADDING_LENGTHS,
                   target_mse: float = ADDING_TARGET_MSE, log=None) -> dict:
    """Train every model of ``adding_models`` (at most ``num_steps`` steps each); returns {key: curve} (plain lists)."""
    if not isinstance(nets, nn.ModuleDict) or not len(nets):
        raise TypeError(f"nets must be a non-empty nn.ModuleDict from adding_models, not {type(nets).__name__}.")
    curves = {}
    for key, model in nets.items():
        length = int(key.split("_t")[1])
        if length not in lengths:
            raise ValueError(f"nets[{key!r}] is for length {length}, which is not in lengths={tuple(lengths)}.")
        curves[key] = fit_adding(model, length, num_steps, target_mse=target_mse, seed=0)
        if log:
            curve = curves[key]
            log(f"{key}: test MSE {curve['test_mse']:.4f} after {curve['step'][-1]} steps, {curve['seconds'][-1]:.0f} s")
    return curves


def _adding_checkpoint_maker(length: int):
    def make():
        nets = adding_models((length,))
        curves = fit_adding_all(nets, ADDING_STEPS[length], (length,), log=print)
        return nets, {"curves": curves, "max_steps": ADDING_STEPS[length], "target_mse": ADDING_TARGET_MSE,
                      "length": length, "hidden_dim": ADDING_HIDDEN}

    make.__name__ = f"make_adding_t{length}"
    return make


# One checkpoint per length (three models each), so no single training holds the CPU for long.
CHECKPOINTS = {f"longrange_adding_t{length}": _adding_checkpoint_maker(length) for length in ADDING_LENGTHS}
