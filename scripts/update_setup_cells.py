"""Keep every chapter's Colab badge and setup cell in agreement with pyproject.toml.

    python scripts/update_setup_cells.py          # rewrite badge + setup cell where they differ
    python scripts/update_setup_cells.py --check  # exit 1 if any chapter differs (what the tests assert)

The repository URL (``[project.urls] Repository``) and the version (``[project] version``) live only in
pyproject.toml. The setup cell installs ``course_utils`` from the tag ``v<version>`` in Colab and, everywhere,
checks that the installed version matches. The .py and the .ipynb are edited together (cell sources only;
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

SETUP = '''# Setup. In Google Colab this installs the course helpers at the version this notebook was written for;
# anywhere else it only checks that the installed version matches (and says how to fix it if not).
import sys

COURSE_UTILS_VERSION = "{version}"
if "google.colab" in sys.modules:
    from IPython import get_ipython

    get_ipython().run_line_magic("pip", f'install -q "course_utils @ git+{url}@v{{COURSE_UTILS_VERSION}}"')
try:
    from course_utils import runtime
except ModuleNotFoundError:
    raise SystemExit("course_utils is not installed: run `make lab`, or `pip install -e .` in the course folder.") from None

runtime.check_version(COURSE_UTILS_VERSION)'''


def project() -> tuple[str, str]:
    meta = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    return meta["urls"]["Repository"], meta["version"]


def expected_setup() -> str:
    url, version = project()
    return SETUP.format(url=url, version=version)


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
