"""Keep every chapter's Colab badge and setup cell in agreement with pyproject.toml.

    python scripts/update_setup_cells.py          # rewrite badge + setup cell where they differ
    python scripts/update_setup_cells.py --check  # exit 1 if any chapter differs (what the tests assert)

The repository URL (``[project.urls] Repository``) and the version (``[project] version``) live only in
pyproject.toml. The setup cell installs ``course_utils`` from the tag ``v<version>`` in Colab (skipped when that
version is already installed; pip's output is kept back; the runtime dependencies are all met by Colab's own
versions, so nothing Colab ships is replaced and no restart is needed: ``make colab`` checks it) and, everywhere,
checks that the installed version matches. When the Colab install fails it raises one line saying what to run
instead (the install from the main branch). The .py and the .ipynb are edited together (cell sources only;
outputs are kept, since the cell prints nothing when the versions match).
"""

from __future__ import annotations

import argparse
import re
import sys
import tomllib
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
BADGE = re.compile(r"https://colab\.research\.google\.com/github/[^)\s]+?/blob/[^)\s]+?/notebooks/[0-9]{2}_\w+\.ipynb")

SETUP = '''# Setup. In Google Colab this installs the course helpers at the version this notebook was written for, quietly
# and without replacing any package Colab ships (so no restart); anywhere else it only checks the installed version.
import sys

COURSE_UTILS_VERSION = "{version}"


class SetupError(Exception):
    def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
        return [f"SetupError: {{self}}"]


if "google.colab" in sys.modules:
    import importlib.metadata
    import subprocess

    try:
        installed = importlib.metadata.version("course_utils")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != COURSE_UTILS_VERSION:
        tag = f"course_utils @ git+{url}@v{{COURSE_UTILS_VERSION}}"
        main = "course_utils @ git+{url}@main"
        if subprocess.run([sys.executable, "-m", "pip", "install", "-q", tag], capture_output=True).returncode:
            raise SetupError(f"could not install course_utils v{{COURSE_UTILS_VERSION}} from its tag (not on GitHub yet?). "
                             f'Instead run, in a new cell:  %pip install -q "{{main}}"  and then this cell again.')
try:
    from course_utils import runtime
except ModuleNotFoundError:
    raise SetupError("course_utils is not installed: run `make lab`, or `pip install -e .` in the course folder.") from None

{assign}runtime.check_version(COURSE_UTILS_VERSION)'''


def project() -> tuple[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return meta["urls"]["Repository"], meta["version"]


def expected_setup(echo: bool = False) -> str:
    """The setup cell. By default it assigns the version check's result, so Jupyter shows no bare ``True`` under it;
    ``echo=True`` gives the old form that leaves the result as the cell's value."""
    url, version = project()
    return SETUP.format(url=url, version=version, assign="" if echo else "version_ok = ")


def expected_badge(stem: str) -> str:
    url, _ = project()
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/main/notebooks/{stem}.ipynb"


def _fix(nb, stem: str) -> bool:
    changed = False
    first = nb.cells[0]
    badge = BADGE.sub(expected_badge(stem), first.source)
    if badge != first.source:
        first.source, changed = badge, True
    setup = next(c for c in nb.cells if c.cell_type == "code")
    if setup.source != expected_setup():
        setup.source, changed = expected_setup(), True
    if setup.get("outputs"):  # the old form's bare ``True``: the new cell never prints a value, so drop it
        kept = [o for o in setup.outputs if o.get("output_type") != "execute_result"]
        if len(kept) != len(setup.outputs):
            setup.outputs, changed = kept, True
    return changed


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = []
    for py in sorted((ROOT / "notebooks").glob("[0-9][0-9]_*.py")):
        ipynb = py.with_suffix(".ipynb")
        text_nb = jupytext.read(py)
        if not _fix(text_nb, py.stem):
            continue
        stale.append(py.name)
        if args.check:
            continue
        jupytext.write(text_nb, py, fmt="py:percent")
        if ipynb.is_file():
            nb = nbformat.read(ipynb, as_version=4)
            _fix(nb, py.stem)
            nbformat.write(nb, ipynb)
        print(f"updated {py.name} and its .ipynb")
    if args.check and stale:
        print("badge or setup cell out of date in: " + ", ".join(stale) + "; run python scripts/update_setup_cells.py")
        return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
