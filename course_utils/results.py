"""Headline numbers a chapter reports, and the claims its prose makes about them, checked where they are made.

Introduced for the benchmarks (``benchmarks/run.py``). A notebook calls ``record("cnn_test_accuracy", acc)``
next to the line that prints the number; when the environment variable ``COURSE_RESULTS`` names a JSON
file, the value is merged into it, otherwise nothing is written. ``record`` returns the value unchanged,
so it can wrap an expression.

``claim("the LSTM beats the plain RNN at every length", all(...))`` states, in the code cell beside it, what a
Markdown sentence says a run shows, and tests it on the numbers just computed. In a full run a claim that does
not hold stops the notebook (``ClaimFailed``), so ``make execute`` and the benchmarks name the sentence that the
numbers contradict; in a smoke run (tiny data, where results mean little) it only prints its verdict. Every
claim is counted in the results file (``claims``: checked and failed), which the benchmark report shows.
"""

from __future__ import annotations

import fcntl
import json
import math
import numbers
import os
import re
from pathlib import Path

from . import runtime

RESULTS_ENV = "COURSE_RESULTS"
CLAIMS_KEY = "claims"
_KEY = re.compile(r"^[a-z][a-z0-9_]*$")


def results_file() -> Path | None:
    """The JSON file named by ``COURSE_RESULTS``, or None when results are not being collected."""
    return runtime.results_path()


def record(key: str, value, unit: str = "", note: str = ""):
    """Store ``value`` under ``key`` in the results file (if one is set) and return ``value``.

    ``key`` is snake_case (e.g. ``"adding_mse_lstm_t200"``); ``value`` is a finite number, or a flat dict
    of finite numbers (e.g. one entry per distance); ``unit`` and ``note`` say what it measures.
    """
    if not isinstance(key, str) or not _KEY.match(key):
        raise ValueError(f"key must be a snake_case string such as 'cnn_test_accuracy', not {key!r}.")
    if key == CLAIMS_KEY:
        raise ValueError(f"key {CLAIMS_KEY!r} is reserved for the claims count; choose another name.")
    _check_value(key, value)
    path = results_file()
    if path is None:
        return value
    if not isinstance(unit, str) or not isinstance(note, str):
        raise TypeError(f"unit and note must be strings, not {unit!r} and {note!r}.")
    plain = {str(k): float(v) for k, v in value.items()} if isinstance(value, dict) else float(value)
    # Read-modify-write under an exclusive lock, then an atomic rename: concurrent records never lose or
    # corrupt each other's entries (two notebooks may run at once).
    _update(path, lambda stored: stored.__setitem__(key, {"value": plain, "unit": unit, "note": note}))
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


class ClaimFailed(AssertionError):
    """A sentence of the chapter says something the numbers of this run contradict."""


def _update(path: Path, change) -> None:
    """Apply ``change(stored_dict)`` to the results file under the lock, then write it atomically."""
    path.parent.mkdir(parents=True, exist_ok=True)
    with open(path.with_name(path.name + ".lock"), "w") as lock:
        fcntl.flock(lock, fcntl.LOCK_EX)
        try:
            stored = json.loads(path.read_text()) if path.is_file() and path.stat().st_size else {}
        except json.JSONDecodeError as err:
            raise ValueError(f"{path} (COURSE_RESULTS) is not valid JSON ({err}); delete it or point "
                             f"{RESULTS_ENV} at a new file.") from None
        change(stored)
        tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
        tmp.write_text(json.dumps(stored, indent=2, sort_keys=True) + "\n")
        os.replace(tmp, path)


def claim(statement: str, holds, detail: str = "") -> bool:
    """Check a claim the chapter's text makes about this run; print the verdict and return whether it holds.

    ``statement`` is the sentence (as the Markdown says it), ``holds`` its test on the numbers just computed,
    ``detail`` the numbers themselves (printed with the verdict). In a full run a false claim raises
    ``ClaimFailed``; in smoke mode it is only reported.
    """
    if not isinstance(statement, str) or not statement.strip():
        raise ValueError(f"statement must be the sentence being checked, not {statement!r}.")
    if hasattr(holds, "item") and callable(holds.item):  # a 0-d tensor or NumPy bool
        holds = holds.item()
    if not isinstance(holds, bool):
        raise TypeError(f"holds must be True or False (the claim's test), not {type(holds).__name__} {holds!r}.")
    if not isinstance(detail, str):
        raise TypeError(f"detail must be a string, not {type(detail).__name__}.")
    smoke = runtime.smoke_mode()
    verdict = "holds" if holds else ("DOES NOT HOLD" + (" (smoke run: not enforced)" if smoke else ""))
    print(f"claim {verdict}: {statement}" + (f" [{detail}]" if detail else ""))
    path = results_file()
    if path is not None:
        def count(stored):
            entry = stored.setdefault(CLAIMS_KEY, {"checked": 0, "failed": 0, "failures": []})
            entry["checked"] += 1
            if not holds:
                entry["failed"] += 1
                entry["failures"].append(statement)
        _update(path, count)
    if not holds and not smoke:
        raise ClaimFailed(f"The text says: {statement!r}, but this run contradicts it" + (f" ({detail})." if detail else "."))
    return holds
