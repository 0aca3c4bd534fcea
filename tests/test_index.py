"""The course index (notebooks/00_index): generated from the chapters, in sync, with the setup and environment check."""

import importlib.util
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
spec = importlib.util.spec_from_file_location("make_index", ROOT / "scripts" / "make_index.py")
make_index = importlib.util.module_from_spec(spec)
spec.loader.exec_module(make_index)


def test_index_is_up_to_date_with_the_chapters():
    assert make_index.main(["--check"]) == 0, "run python scripts/make_index.py"


def test_index_pair_is_in_sync_and_executed():
    py, ipynb = ROOT / "notebooks" / "00_index.py", ROOT / "notebooks" / "00_index.ipynb"
    assert jupytext.writes(jupytext.read(ipynb), fmt="py:percent") == py.read_text()
    code = [c for c in nbformat.read(ipynb, as_version=4).cells if c.cell_type == "code"]
    assert code[0].source == make_index.setup_cells.expected_setup()
    assert "environment.check(COURSE_UTILS_VERSION)" in code[1].source
    report = "".join(o.get("text", "") for o in code[1].outputs)
    assert "torch" in report and "course_utils" in report, "the committed index must show an environment report"


def test_every_chapter_is_listed_with_objectives_badge_and_widgets():
    text = (ROOT / "notebooks" / "00_index.py").read_text()
    chapters = sorted((ROOT / "notebooks").glob("0[1-9]_*.py"))
    assert len(chapters) >= 1
    for py in chapters:
        info = make_index.chapter_info(py)
        assert f"]({py.stem}.ipynb)" in text and make_index.setup_cells.expected_badge(py.stem) in text
        assert info["objectives"] and info["prerequisites"], f"{py.stem} lacks objectives or prerequisites"
        assert info["widgets"], f"{py.stem} has no widget section"
