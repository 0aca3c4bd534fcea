"""Chapter 02's long-range experiments rerun with three recurrent layers: plain RNN, LSTM and GRU.

Introduced in chapter 03 (LSTM and GRU). The tasks come from ``course_utils.seqdata`` (chapter 02):
``recall_task`` (remember the first token over ``distance`` steps) and ``adding_problem`` (add two
marked numbers in a sequence of ``length`` steps).

- ``LastStepModel``: [embedding] -> RNN / LSTM / GRU -> linear head on the last step's state.
- ``train_adding`` / ``train_recall``: Adam with clipping on fresh batches; each returns plain lists
  and numbers, so the results can be stored in a checkpoint's meta.
- ``CHECKPOINTS["longrange_adding_t50"]`` (and ``_t100``, ``_t200``): the adding problem for the three
  models at one length, too slow for the notebook's time budget
  (``scripts/make_checkpoints.py longrange_adding_t50 longrange_adding_t100 longrange_adding_t200``).
"""

from __future__ import annotations

import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import rnn_bptt

KINDS = ("rnn", "lstm", "gru")
ADDING_LENGTHS = (50, 100, 200)
ADDING_STEPS = {50: 3000, 100: 3000, 200: 5000}  # at most this many Adam steps per model, by length (full size)
ADDING_TARGET_MSE = 1e-3     # ... or until the test MSE falls below this (checked every 100 steps)
ADDING_HIDDEN = 64


class LastStepModel(nn.Module):
    """Many-to-one: [embedding] -> one recurrent layer -> linear head on the last state."""

    def __init__(self, kind: str, input_dim: int, output_dim: int, hidden_dim: int = 64,
                 vocab_size: int | None = None):
        super().__init__()
        layers = {"rnn": nn.RNN, "lstm": nn.LSTM, "gru": nn.GRU}
        if kind not in layers:
            raise ValueError(f"Unknown kind {kind!r}; choose one of {', '.join(layers)}.")
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, input_dim) if vocab_size else None
        self.rnn = layers[kind](input_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, output_dim)
        if kind == "rnn":  # as in chapter 02: start the plain RNN at the edge, W_hh orthogonal (r = 1)
            nn.init.orthogonal_(self.rnn.weight_hh_l0)

    def forward(self, x):                          # (B, T) token ids or (B, T, D) values
        if self.embedding is not None:
            x = self.embedding(x)                  # (B, T, D)
        out, _ = self.rnn(x)                       # (B, T, H)
        return self.head(out[:, -1])               # (B, output_dim)


def adding_model(kind: str, hidden_dim: int = ADDING_HIDDEN) -> LastStepModel:
    """The adding-problem regressor: 2 inputs per step (value, marker) -> one number."""
    return LastStepModel(kind, input_dim=2, output_dim=1, hidden_dim=hidden_dim)


@torch.no_grad()
def adding_mse(model: nn.Module, length: int, num_sequences: int = 2000, seed: int = 12345) -> float:
    """Test MSE on fresh adding-problem sequences (predicting 1.0 always scores ``ADDING_BASELINE_MSE``)."""
    X, y = rnn_bptt.tasks.adding_problem(num_sequences, length, generator=torch.Generator().manual_seed(seed))
    return F.mse_loss(model(X)[:, 0], y).item()


def train_adding(model: nn.Module, length: int, steps: int, *, batch_size: int = 64, lr: float = 2e-3,
                 max_norm: float = 1.0, eval_every: int = 100, target_mse: float = 0.0, seed: int = 0) -> dict:
    """Adam on fresh adding-problem batches; returns {'step', 'mse', 'seconds'} at every evaluation.

    Stops early once an evaluation's MSE (500 fresh sequences) falls below ``target_mse``.
    """
    if not isinstance(length, int) or length < 2 or not isinstance(steps, int) or steps < 1:
        raise ValueError(f"length must be an int >= 2 and steps an int >= 1, got {length!r} and {steps!r}.")
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    curve = {"step": [0], "mse": [adding_mse(model, length, 500)], "seconds": [0.0]}
    seconds = 0.0
    for step in range(1, steps + 1):
        start = time.perf_counter()
        X, y = rnn_bptt.tasks.adding_problem(batch_size, length, generator=g)
        loss = F.mse_loss(model(X)[:, 0], y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
        seconds += time.perf_counter() - start
        if step % eval_every == 0 or step == steps:
            curve["step"].append(step)
            curve["mse"].append(adding_mse(model, length, 500))
            curve["seconds"].append(seconds)
            if curve["mse"][-1] < target_mse:
                break
    curve["test_mse"] = adding_mse(model, length)
    return curve


def train_recall(model: nn.Module, distance: int, steps: int, *, batch_size: int = 128, lr: float = 3e-3,
                 max_norm: float = 1.0, seed: int = 0) -> float:
    """Adam with clipping on fresh recall batches (chapter 02's experiment); returns the test accuracy."""
    g = torch.Generator().manual_seed(seed)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(steps):
        X, y = rnn_bptt.tasks.recall_task(batch_size, distance, generator=g)
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    X, y = rnn_bptt.tasks.recall_task(2000, distance, generator=torch.Generator().manual_seed(12345))
    with torch.no_grad():
        return (model(X).argmax(1) == y).float().mean().item()


def adding_models(lengths=ADDING_LENGTHS, hidden_dim: int = ADDING_HIDDEN) -> nn.ModuleDict:
    """One fresh, seeded adding model per kind and length, keyed like ``'lstm_t200'``."""
    models = nn.ModuleDict()
    for kind in KINDS:
        for length in lengths:
            torch.manual_seed(0)
            models[f"{kind}_t{length}"] = adding_model(kind, hidden_dim)
    return models


def train_adding_all(models: nn.ModuleDict, steps: int, lengths=ADDING_LENGTHS, target_mse: float = ADDING_TARGET_MSE,
                     log=None) -> dict:
    """Train every model of ``adding_models`` (at most ``steps`` steps each); returns {key: curve} (plain lists)."""
    curves = {}
    for key, model in models.items():
        length = int(key.split("_t")[1])
        if length not in lengths:
            raise ValueError(f"model {key!r} has a length outside {lengths}.")
        curves[key] = train_adding(model, length, steps, target_mse=target_mse, seed=0)
        if log:
            curve = curves[key]
            log(f"{key}: test MSE {curve['test_mse']:.4f} after {curve['step'][-1]} steps, {curve['seconds'][-1]:.0f} s")
    return curves


def _adding_checkpoint_maker(length: int):
    def make():
        models = adding_models((length,))
        curves = train_adding_all(models, ADDING_STEPS[length], (length,), log=print)
        return models, {"curves": curves, "max_steps": ADDING_STEPS[length], "target_mse": ADDING_TARGET_MSE,
                        "length": length, "hidden_dim": ADDING_HIDDEN}

    make.__name__ = f"make_adding_t{length}"
    return make


# One checkpoint per length (three models each), so no single training holds the CPU for long.
CHECKPOINTS = {f"longrange_adding_t{length}": _adding_checkpoint_maker(length) for length in ADDING_LENGTHS}
