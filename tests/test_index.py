"""The course index (notebooks/00_index): generated from the chapters, in sync, with the setup and environment check.

The objectives test reads each chapter's first cell with a Markdown parser (markdown-it, what jupytext itself
uses), not with make_index's own parser, so a parser that cuts an objective is caught: every objective of every
chapter must stand in the index whole, and no other.
"""

import importlib.util
import sys
from pathlib import Path

import jupytext
import nbformat
import pytest
from markdown_it import MarkdownIt

ROOT = Path(__file__).resolve().parents[1]
INDEX_PY, INDEX_IPYNB = ROOT / "notebooks" / "00_index.py", ROOT / "notebooks" / "00_index.ipynb"
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-9]_*.py"))
spec = importlib.util.spec_from_file_location("make_index", ROOT / "scripts" / "make_index.py")
make_index = importlib.util.module_from_spec(spec)
sys.modules[spec.name] = make_index
spec.loader.exec_module(make_index)
timings = make_index.timings


def rendered_objectives(markdown: str) -> list[str]:
    """The items of the bullet list that follows "After this chapter you can", as a Markdown renderer reads them."""
    tokens = MarkdownIt("commonmark").parse(markdown)
    start = next((i for i, t in enumerate(tokens) if t.type == "inline" and "After this chapter you can" in t.content),
                 None)
    if start is None:
        return []
    items, depth = [], None
    for token in tokens[start + 1:]:
        if depth is None:
            if token.type == "bullet_list_open":
                depth = token.level
                continue
            if token.type == "inline":  # the heading is not followed by a list
                return []
            continue
        if token.type == "bullet_list_close" and token.level == depth:
            break
        if token.type == "list_item_open" and token.level == depth + 1:
            items.append("")
        elif token.type == "inline":
            items[-1] = " ".join((items[-1] + " " + token.content).split())
    return items


def index_cells(ipynb: Path = INDEX_IPYNB) -> list:
    return nbformat.read(ipynb, as_version=4).cells


def missing_objectives(cells, chapters=CHAPTERS) -> list[str]:
    """Every objective of ``chapters`` that the index ``cells`` do not show whole (and any extra one they show)."""
    problems = []
    for py in chapters:
        wanted = rendered_objectives(jupytext.read(py).cells[0].source)
        entry = next((c.source for c in cells if c.cell_type == "markdown" and f"]({py.stem}.ipynb)" in c.source
                      and c.source.startswith("### ")), None)
        if entry is None:
            problems.append(f"{py.stem}: no entry in the index")
            continue
        shown = rendered_objectives(entry)
        problems += [f"{py.stem}: objective missing or cut: {o!r}" for o in wanted if o not in shown]
        problems += [f"{py.stem}: the index shows {o!r}, which the chapter does not list" for o in shown if o not in wanted]
    return problems


def test_every_objective_of_every_chapter_is_in_the_index_whole():
    problems = missing_objectives(index_cells())
    assert not problems, "run python scripts/make_index.py:\n" + "\n".join(problems)


def test_the_objectives_check_catches_a_cut_objective(tmp_path):
    chapter = tmp_path / "07_demo.py"
    chapter.write_text("# %% [markdown]\n# # 07 · Demo\n#\n# **After this chapter you can**\n# - do one thing;\n"
                       "# - do a second thing that wraps\n#   onto a second line;\n# - and a third.\n#\n# Prerequisites: none.\n")
    whole = ["do one thing;", "do a second thing that wraps onto a second line;", "and a third."]
    assert rendered_objectives(jupytext.read(chapter).cells[0].source) == whole
    assert make_index.objectives(jupytext.read(chapter).cells[0].source) == whole
    cut = nbformat.v4.new_markdown_cell("### [07 · Demo](07_demo.ipynb)\n\n**After this chapter you can**\n"
                                        "- do one thing;\n- do a second thing that wraps")  # what the old parser wrote
    problems = missing_objectives([cut], [chapter])
    assert len(problems) == 3 and "shows 'do a second thing that wraps'" in problems[2]  # 2 missing, 1 cut
    good = nbformat.v4.new_markdown_cell("### [07 · Demo](07_demo.ipynb)\n\n**After this chapter you can**\n"
                                         + "\n".join(f"- {o}" for o in whole))
    assert missing_objectives([good], [chapter]) == []


@pytest.mark.parametrize("first, expected", [
    ("**After this chapter you can**\n- a\n  b\n- c\n\n| table |", ["a b", "c"]),
    ("**After this chapter you can**\n- a\nb lazily continued\n- c\n\nPrerequisites: x", ["a b lazily continued", "c"]),
    ("**After this chapter you can**\n\n* one\n\n* two\n\nText after.", ["one", "two"]),
    ("No objectives here.", []),
])
def test_objectives_parser_keeps_wrapped_bullets_whole(first, expected):
    assert make_index.objectives(first) == expected


def test_index_is_up_to_date_with_the_chapters():
    assert make_index.main(["--check"]) == 0, "run python scripts/make_index.py"


def test_index_pair_is_in_sync_and_executed():
    assert jupytext.writes(jupytext.read(INDEX_IPYNB), fmt="py:percent") == INDEX_PY.read_text()
    code = [c for c in index_cells() if c.cell_type == "code"]
    assert code[0].source == make_index.setup_cells.expected_setup(echo=False)
    assert "environment_ok = environment.check(COURSE_UTILS_VERSION)" in code[1].source
    report = "".join(o.get("text", "") for o in code[1].outputs)
    assert "torch" in report and "course_utils" in report, "the committed index must show an environment report"
    import course_utils

    assert f"course_utils              {course_utils.__version__}" in report, "the environment report is stale: re-run it"


def test_index_shows_no_bare_true_or_false():
    for cell in index_cells():
        for out in cell.get("outputs", []):
            text = "".join(out.get("data", {}).get("text/plain", "")).strip()
            assert text not in ("True", "False"), f"an index cell echoes a bare {text}: assign its result"


def test_index_says_why_the_order_is_not_the_numbering():
    text = INDEX_PY.read_text()
    assert "01 → 05 → 04 → 06" in text and "not by the order to read them in" in text
    gan = next(c.source for c in index_cells() if "](04_gan.ipynb)" in c.source and c.source.startswith("### "))
    assert "**Read it after** chapter 05" in gan


def test_every_chapter_has_study_time_beside_its_compute_time():
    bench = timings.load()
    text = INDEX_PY.read_text()
    for py in CHAPTERS:
        entry = timings.chapter_entry(bench, py.stem)
        cell = next(c.source for c in index_cells() if f"]({py.stem}.ipynb)" in c.source and c.source.startswith("### "))
        t = timings.study_time(py, entry)
        assert f"**Study time:** about {timings.format_minutes(t['total'])}" in cell, py.stem
        assert timings.index_runtime_line(entry) in cell, py.stem
        assert t["read"] > 0 and t["exercises"] >= 3 * timings.STUDY["minutes_per_exercise"]
    assert timings.study_table(ROOT / "notebooks", bench) in jupytext.read(INDEX_PY).cells[4].source
    assert "Study time" in text and "Compute time" in text


def test_study_time_counts_the_chapter(tmp_path):
    chapter = tmp_path / "07_demo.py"
    words = " ".join(["word"] * 1000)
    chapter.write_text(f"# %% [markdown]\n# {words}\n\n# %%\n" + "x = 1\n" * 100
                       + '\n# %% tags=["solution"]\ny = 2\n\n# %% tags=["solution"]\nz = 3\n\n# %%\nwidgets.show(v)\n')
    t = timings.study_time(chapter, {"full": {"seconds": 600}})
    # 1000 words / 100 + 101 code lines / 10 -> 21 -> 25; 10 min compute + 1 widget -> 15; 2 exercises -> 50
    assert t == {"read": 25, "run": 15, "exercises": 50, "total": 90}
    assert timings.format_minutes(90) == "1 h 30 min" and timings.format_minutes(75) == "75 min"


def test_every_chapter_is_listed_with_objectives_badge_and_widgets():
    text = INDEX_PY.read_text()
    assert len(CHAPTERS) >= 1
    for py in CHAPTERS:
        info = make_index.chapter_info(py)
        assert f"]({py.stem}.ipynb)" in text and make_index.setup_cells.expected_badge(py.stem) in text
        assert info["objectives"] and info["prerequisites"], f"{py.stem} lacks objectives or prerequisites"
        assert info["widgets"], f"{py.stem} has no widget section"

