"""Where the code runs and how big the run is: device, seeding, smoke mode and the chapter config.

Introduced in chapter 01. Smoke mode is read here and nowhere else: set ``COURSE_SMOKE=1``
to shrink data and steps for CI and quick checks.
"""

from __future__ import annotations

import os
import random
import sys
from pathlib import Path

import numpy as np
import torch

SMOKE_ENV = "COURSE_SMOKE"
# Every environment variable the course reads, and what it means. ``flag`` and ``cache_dir`` read them.
FLAGS = {
    "COURSE_SMOKE": "small, fast runs for CI and quick checks",
    "COURSE_OFFLINE": "never touch the network (no download, no probe)",
    "COURSE_HEADLESS": "nobody watches the run live: no progress bars",
    "COURSE_PRECOMPUTE": "link discrete widget controls to precomputed frames in the browser (on unless set to 0)",
    "COURSE_SITE": "building the course website: a view whose controls need a live kernel says so on the page",
}
# ... and the two that name a path: COURSE_DATA_DIR (``cache_dir``) and COURSE_RESULTS (``results_path``).
_TRUE = {"1", "true", "yes", "on"}
_FALSE = {"0", "false", "no", "off"}  # unset or empty means the default


def flag(name: str, default: bool = False) -> bool:
    """The on/off environment variable ``name`` (one of ``FLAGS``): 1/true/yes/on or 0/false/no/off; ``default``
    when it is unset or empty.

    Any other value is refused, so a typo never silently means "off".
    """
    if name not in FLAGS:
        raise ValueError(f"name must be one of {sorted(FLAGS)}, not {name!r}.")
    if not isinstance(default, bool):
        raise TypeError(f"default must be True or False, not {default!r}.")
    raw = os.environ.get(name, "")
    value = raw.strip().lower()
    if not value:
        return default
    if value in _TRUE:
        return True
    if value in _FALSE:
        return False
    raise ValueError(f"The environment variable {name}={raw!r} is not understood; set it to 1 (on) or 0 (off).")


def cache_dir() -> Path:
    """Where downloads and unpacked data go: ``$COURSE_DATA_DIR`` (``~`` expanded), else ``~/.cache/course_utils``."""
    env = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(env).expanduser() if env else Path.home() / ".cache" / "course_utils"


def results_path() -> Path | None:
    """The JSON file named by ``COURSE_RESULTS`` (where ``results.record`` writes), or None when unset."""
    env = os.environ.get("COURSE_RESULTS", "").strip()
    return Path(env) if env else None


def smoke_mode() -> bool:
    """True when the environment variable ``COURSE_SMOKE`` asks for a small, fast run."""
    return flag("COURSE_SMOKE")


def offline() -> bool:
    """True when ``COURSE_OFFLINE`` forbids every network access."""
    return flag("COURSE_OFFLINE")


def headless() -> bool:
    """True when nobody watches the run live (CI, nbval, the notebook executor): no progress bars."""
    return flag("COURSE_HEADLESS") or os.environ.get("CI", "") == "true"


def in_notebook() -> bool:
    """True inside a Jupyter kernel (JupyterLab, Colab, nbclient)."""
    ip = sys.modules.get("IPython")
    if ip is None:
        return False
    shell = ip.get_ipython()
    return shell is not None and shell.__class__.__name__ in {"ZMQInteractiveShell", "Shell"}


def in_colab() -> bool:
    """True inside Google Colab."""
    return "google.colab" in sys.modules


def get_device(prefer: str | None = None) -> torch.device:
    """The best available device: CUDA, then Apple's MPS, then the CPU (or ``prefer`` if given)."""
    if prefer is not None:
        if prefer not in {"cpu", "cuda", "mps"}:
            raise ValueError(f"prefer must be 'cpu', 'cuda' or 'mps', not {prefer!r}.")
        return torch.device(prefer)
    if torch.cuda.is_available():
        return torch.device("cuda")
    if getattr(torch.backends, "mps", None) is not None and torch.backends.mps.is_available():
        return torch.device("mps")
    return torch.device("cpu")


def seed_everything(seed: int = 0) -> torch.Generator:
    """Seed Python, NumPy and PyTorch so a run repeats; returns a torch.Generator seeded the same way."""
    if not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be a non-negative int, not {seed!r}.")
    random.seed(seed)
    np.random.seed(seed)
    torch.manual_seed(seed)
    return torch.Generator().manual_seed(seed)


class Config:
    """A chapter's settings, each given as ``name=(full_value, smoke_value)``.

    Attribute access returns the value in force (smoke values when ``COURSE_SMOKE=1``);
    displaying the object prints both columns so the reader sees what the smoke run shrinks.

    >>> cfg = Config(num_epochs=(10, 1), batch_size=(256, 256))
    >>> cfg.num_epochs  # 10, or 1 in smoke mode
    """

    def __init__(self, *, smoke: bool | None = None, **settings):
        if smoke is not None and not isinstance(smoke, bool):
            raise TypeError(f"smoke must be True, False or None (read COURSE_SMOKE), not {smoke!r}.")
        if not settings:
            raise ValueError("Config needs at least one setting, e.g. Config(num_epochs=(10, 1)).")
        self._smoke = smoke_mode() if smoke is None else smoke
        self._pairs = {}
        for name, pair in settings.items():
            if not (isinstance(pair, tuple) and len(pair) == 2):
                raise ValueError(f"Config setting {name!r} must be a (full, smoke) pair, not {pair!r}.")
            self._pairs[name] = pair

    @property
    def smoke(self) -> bool:
        return self._smoke

    def __getattr__(self, name):
        pairs = self.__dict__.get("_pairs", {})
        if name in pairs:
            full, small = pairs[name]
            return small if self._smoke else full
        raise AttributeError(f"Config has no setting {name!r}; it has {sorted(pairs)}.")

    def as_dict(self) -> dict:
        return {name: getattr(self, name) for name in self._pairs}

    def __repr__(self) -> str:
        mode = "SMOKE (COURSE_SMOKE=1)" if self._smoke else "FULL"
        rows = [("setting", "full", "smoke", "in use")]
        rows += [(k, repr(f), repr(s), repr(s if self._smoke else f)) for k, (f, s) in self._pairs.items()]
        widths = [max(len(r[i]) for r in rows) for i in range(4)]
        lines = [f"mode: {mode}"]
        for i, r in enumerate(rows):
            lines.append("  ".join(c.ljust(w) for c, w in zip(r, widths)).rstrip())
            if i == 0:
                lines.append("  ".join("-" * w for w in widths))
        return "\n".join(lines)


def check_version(expected: str) -> bool:
    """Compare the installed ``course_utils`` with the version a notebook expects; print how to fix a mismatch.

    Prints nothing and returns True when they match (every chapter's setup cell calls this).
    """
    from . import __version__

    if not isinstance(expected, str) or not expected.count(".") == 2:
        raise ValueError(f"expected must be a version string such as '0.2.0', not {expected!r}.")
    if __version__ == expected:
        return True
    print(f"Version mismatch: course_utils {__version__} is installed, but this notebook was written for {expected}. "
          "Fix: in the course folder run `git pull` and `pip install -e .`, then restart the kernel "
          "(in Colab: Runtime > Restart session, then run the setup cell again).")
    return False
