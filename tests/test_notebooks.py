"""Every chapter is a .py/.ipynb pair in sync, with the course frame, and committed outputs from a full run."""

import importlib.util
import json
import re
import tomllib
from pathlib import Path

import jupytext
import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p for p in (ROOT / "notebooks").glob("0[1-9]_*.py"))
REPO_URL = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
GITHUB_PATH = REPO_URL.removeprefix("https://github.com/")
VERSION = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["version"]
_spec = importlib.util.spec_from_file_location("update_setup_cells", ROOT / "scripts" / "update_setup_cells.py")
_setup_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setup_script)
SETUP_CELL = _setup_script.expected_setup()


def test_package_version_matches_pyproject():
    import course_utils

    assert course_utils.__version__ == VERSION, "course_utils/__init__.py and pyproject.toml disagree on the version"


def test_there_are_chapters():
    assert CHAPTERS, "no notebooks/NN_name.py found"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_pair_is_in_sync(py):
    ipynb = py.with_suffix(".ipynb")
    assert ipynb.is_file(), f"{py.name} has no paired {ipynb.name}: run `make sync`"
    from_ipynb = jupytext.writes(jupytext.read(ipynb), fmt="py:percent")
    assert from_ipynb == py.read_text(), f"{py.name} and {ipynb.name} differ: run `make sync` (or `make execute`)"


def _cells(py):
    return nbformat.read(py.with_suffix(".ipynb"), as_version=4).cells


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_course_frame(py):
    cells = _cells(py)
    first = cells[0].source
    badge = f"https://colab.research.google.com/github/{GITHUB_PATH}/blob/main/notebooks/{py.stem}.ipynb"
    assert badge in first, f"the Colab badge of {py.stem} must point at {badge}"
    assert "After this chapter you can" in first and "smoke" in first
    setup = next(c.source for c in cells if c.cell_type == "code")
    assert setup == SETUP_CELL, f"{py.stem}'s setup cell is not the course's: run python scripts/update_setup_cells.py"
    assert "google.colab" in setup and f"git+{REPO_URL}@v{{COURSE_UTILS_VERSION}}" in setup
    assert f'COURSE_UTILS_VERSION = "{VERSION}"' in setup
    assert any("runtime.Config(" in c.source for c in cells if c.cell_type == "code"), "no configuration cell"
    text = "\n".join(c.source for c in cells if c.cell_type == "markdown")
    for heading in ("## Summary", "## Exercises", "## Further reading"):
        assert heading in text


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_exercises_have_hidden_solutions_and_checks(py):
    cells = _cells(py)
    solutions = [i for i, c in enumerate(cells) if "solution" in c.metadata.get("tags", [])]
    assert len(solutions) >= 3
    for i in solutions:
        assert cells[i].metadata.get("jupyter", {}).get("source_hidden") is True
        later = [c.source for c in cells[i + 1 :] if c.cell_type == "code"]
        assert any("checks.check_" in s for s in later[:2]), f"solution cell {i} has no check right after it"


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_widget_cells_are_tagged_and_outputs_committed(py):
    cells = _cells(py)
    code = [c for c in cells if c.cell_type == "code"]
    for c in code:
        if re.search(r"widgets\.show\(|_explorer\(|_viewer\(|frame_browser\(", c.source):
            assert "nbval-ignore-output" in c.metadata.get("tags", []), c.source[:60]
    assert any("NBVAL_CHECK_OUTPUT" in c.source for c in code)
    executed = [c for c in code if c.get("execution_count")]
    assert len(executed) == len(code), "the committed notebook must hold the outputs of a full run: `make execute`"
    assert not any("COURSE_SMOKE=1" in json.dumps(o) or "mode: SMOKE" in json.dumps(o) for c in code for o in c.outputs), \
        "committed outputs come from a smoke run; re-run `make execute`"
    raw = py.with_suffix(".ipynb").read_text()
    assert '"widgets"' not in json.loads(raw).get("metadata", {}), "widget state must be stripped"
    assert len(raw) < 3_000_000, "committed notebook is too heavy; keep figures small"
    assert any("image/png" in o.get("data", {}) for c in code for o in c.outputs)


@pytest.mark.parametrize("py", CHAPTERS, ids=lambda p: p.stem)
def test_every_widget_has_a_static_figure_beside_it(py):
    """A reader without a kernel (GitHub, nbviewer, HTML export) still sees each widget's lesson as a picture."""
    cells = _cells(py)
    widget_cells = [i for i, c in enumerate(cells) if c.cell_type == "code" and any(
        "application/vnd.jupyter.widget-view+json" in o.get("data", {}) for o in c.outputs)]
    assert widget_cells, f"{py.stem} has no widget output in its committed notebook"
    for i in widget_cells:
        nearby = [o for c in cells[i : i + 2] if c.cell_type == "code" for o in c.outputs]
        assert any("image/png" in o.get("data", {}) for o in nearby), (
            f"widget cell {i} of {py.stem} has no static figure in its outputs (or the next cell's): use widgets.show(widget, fig)")
