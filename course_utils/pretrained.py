"""Course-made checkpoints: load one when it ships with the package, train otherwise.

Introduced for the slow trainings of chapters 03, 04 and 06 (and chapter 04's evaluation classifier).
A module declares the checkpoints it can make in a module-level dict
``CHECKPOINTS = {"name": make_fn}``, where ``make_fn()`` trains from scratch and returns
``(model, meta)``; ``python scripts/make_checkpoints.py [name ...]`` runs them and writes
``course_utils/_checkpoints/<name>.pt`` plus its ``.sha256``. Notebooks call ``load_or_train``
and print the message it returns, so the reader always knows which happened.
"""

from __future__ import annotations

import importlib
import pkgutil
import time
from collections.abc import Callable
from pathlib import Path

import torch

from . import checkpoints

CHECKPOINT_DIR = Path(__file__).parent / "_checkpoints"
MAX_BYTES = 5 * 1024 * 1024  # a committed checkpoint stays under 5 MB


def checkpoint_path(name: str, folder: str | Path | None = None) -> Path:
    """Where the checkpoint ``name`` lives (``course_utils/_checkpoints/<name>.pt`` by default)."""
    if not isinstance(name, str) or not name or "/" in name or name.endswith(".pt"):
        raise ValueError(f"name must be a plain checkpoint name such as 'dcgan', not {name!r}.")
    return Path(folder or CHECKPOINT_DIR) / f"{name}.pt"


def has_checkpoint(name: str, folder: str | Path | None = None) -> bool:
    """True when the checkpoint ``name`` and its checksum file exist."""
    path = checkpoint_path(name, folder)
    return path.is_file() and Path(str(path) + ".sha256").is_file()


def load_or_train(model: torch.nn.Module, name: str, train_fn: Callable[[torch.nn.Module], object], *,
                  use_checkpoint: bool = True, folder: str | Path | None = None) -> tuple[str, dict]:
    """Load checkpoint ``name`` into ``model`` if allowed and present, else run ``train_fn(model)``.

    Returns ``(message, meta)``: a sentence saying which happened (print it), and the checkpoint's
    meta (``{}`` after training; then ``meta`` holds ``train_seconds`` and whatever ``train_fn`` returned
    under ``"result"``).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"load_or_train takes an nn.Module, got {type(model).__name__}.")
    if not callable(train_fn):
        raise TypeError("train_fn must be a function that trains the model it is given.")
    path = checkpoint_path(name, folder)
    if use_checkpoint and has_checkpoint(name, folder):
        meta = checkpoints.load_checkpoint(model, path)
        model.eval()
        digest = Path(str(path) + ".sha256").read_text().split()[0]
        made = f", trained for {meta['train_seconds']:.0f} s by scripts/make_checkpoints.py" if "train_seconds" in meta else ""
        return f"Loaded the course checkpoint '{name}' ({path.stat().st_size / 1e6:.2f} MB, sha256 {digest[:12]}…{made}).", meta
    start = time.perf_counter()
    result = train_fn(model)
    seconds = time.perf_counter() - start
    why = "no checkpoint used in smoke mode" if not use_checkpoint else f"no checkpoint at {path}"
    return f"Trained '{name}' from scratch in {seconds:.0f} s ({why}).", {"train_seconds": seconds, "result": result}


def registry() -> dict[str, Callable]:
    """Every checkpoint the course can make: ``{name: make_fn}`` collected from the modules' ``CHECKPOINTS``."""
    import course_utils

    found: dict[str, Callable] = {}
    for info in pkgutil.iter_modules(course_utils.__path__):
        if info.name.startswith("_"):
            continue
        module = importlib.import_module(f"course_utils.{info.name}")
        for name, fn in getattr(module, "CHECKPOINTS", {}).items():
            if name in found:
                raise RuntimeError(f"Checkpoint name {name!r} is declared twice (second time in course_utils.{info.name}).")
            found[name] = fn
    return found
