"""Headline numbers a chapter reports, collected for the benchmarks.

Introduced for the benchmarks (``benchmarks/run.py``). A notebook calls ``record("cnn_test_accuracy", acc)``
next to the line that prints the number; when the environment variable ``COURSE_RESULTS`` names a JSON
file, the value is merged into it, otherwise nothing is written. ``record`` returns the value unchanged,
so it can wrap an expression.
"""

from __future__ import annotations

import fcntl
import json
import math
import numbers
import os
import re
from pathlib import Path

RESULTS_ENV = "COURSE_RESULTS"
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def results_file() -> Path | None:
    """The JSON file named by ``COURSE_RESULTS``, or None when results are not being collected."""
    name = os.environ.get(RESULTS_ENV, "").strip()
    return Path(name) if name else None


def record(key: str, value, unit: str = "", note: str = ""):
    """Store ``value`` under ``key`` in the results file (if one is set) and return ``value``.

    ``key`` is snake_case (e.g. ``"adding_mse_lstm_t200"``); ``value`` is a finite number, or a flat dict
    of finite numbers (e.g. one entry per distance); ``unit`` and ``note`` say what it measures.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"key must be a snake_case string such as 'cnn_test_accuracy', not {key!r}.")
    _check_value(key, value)
    path = results_file()
    if path is None:
        return value
    if not isinstance(unit, str) or not isinstance(note, str):
        raise TypeError(f"unit and note must be strings, not {unit!r} and {note!r}.")
    plain = {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)
    path.parent.mkdir(parents=True, exist_ok=True)
    # Read-modify-write under an exclusive lock, then an atomic rename: concurrent records never lose or
    # corrupt each other's entries (two notebooks may run at once).
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stored = json.loads(path.read_text()) if path.is_file() and path.stat().st_size else {}
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} (COURSE_RESULTS) is not valid JSON ({err}); delete it or point "
                             f"{RESULTS_ENV} at a new file.") from None
        stored[key] = {"value": plain, "unit": unit, "note": note}
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)
    return value


def _check_value(key: str, value) -> None:
    items = value.items() if isinstance(value, dict) else [(key, value)]
    if isinstance(value, dict) and not value:
        raise ValueError(f"record({key!r}, ...) got an empty dict; pass at least one number.")
    for name, v in items:
        if hasattr(v, "item") and callable(v.item):  # a 0-d tensor or NumPy scalar
            v = v.item()
        if isinstance(v, bool) or not isinstance(v, numbers.Real) or not math.isfinite(float(v)):
            raise ValueError(f"record({key!r}, ...) takes finite numbers, but {name!r} is {v!r}.")
