"""Generate the course index, notebooks/00_index.py (+ the cell sources of its .ipynb), from the chapters.

    python scripts/make_index.py          # write notebooks/00_index.py and update 00_index.ipynb's cells
    python scripts/make_index.py --check  # exit 1 if the committed index is out of date (the tests run this)

For every chapter it copies the title, every "After this chapter you can" objective (whole, however it wraps:
a ``- `` bullet and the lines that continue it) and the prerequisites from the chapter's first cell, lists the
sections that hold widgets, and gives two times from scripts/timings.py: the study time (a person's: reading,
running, exercises) and the compute time measured in benchmarks/results/benchmarks.json. The index starts with
the course's setup cell and an environment check (course_utils.environment.check), both assigning their result so
they echo no bare True. benchmarks/run.py calls it after each measurement.
"""

from __future__ import annotations

import argparse
import importlib.util
import json
import re
import sys
from pathlib import Path

import jupytext
import nbformat

ROOT = Path(__file__).resolve().parents[1]
NOTEBOOKS = ROOT / "notebooks"
INDEX = NOTEBOOKS / "00_index.py"
BENCH = ROOT / "benchmarks" / "results" / "benchmarks.json"
OBJECTIVES = "**After this chapter you can**"
BULLET = re.compile(r"^ {0,3}[-*+]\s+")


def _load(name: str):
    spec = importlib.util.spec_from_file_location(name, ROOT / "scripts" / f"{name.removeprefix('course_')}.py")
    module = importlib.util.module_from_spec(spec)
    sys.modules[name] = module
    spec.loader.exec_module(module)
    return module


setup_cells, timings = _load("update_setup_cells"), _load("course_timings")

# Why the reading order is not the numbering (the index says it once, and in chapter 04's entry).
READ_AFTER = {"04_gan": "chapter 05. Its generator is built from the transposed convolutions chapter 05 explains, "
                        "and its latent-space walk (section 8) assumes chapter 05's decoding between two codes."}
ORDER = (
    "## The chapters\n\n"
    "**Reading order.** The numbers group the chapters by family (convolutional 01; recurrent 02 and 03; generative "
    "04 to 06), not by the order to read them in. After chapter 01 there are two independent paths:\n\n"
    "- **Sequences:** 01 → 02 → 03.\n"
    "- **Generative models:** 01 → 05 → 04 → 06. Read chapter 05 (autoencoders) *before* chapter 04 (GANs): "
    "chapter 04's generator is built from the transposed convolutions chapter 05 explains, and its latent-space walk "
    "assumes chapter 05's decoding between codes. Chapter 06 builds its VAE on chapter 05's autoencoders and, in "
    "its last section, compares it with chapter 04's GAN using chapter 04's Fréchet distance.\n\n"
    "Each chapter below lists its prerequisites.\n\n"
    "**Time to plan for.** *Study time* is yours: reading, running the cells and playing with the widgets, doing "
    "the exercises. *Compute time* is the computer's: how long the whole notebook takes to run, measured on the "
    "benchmark machine (a 2-core CPU), while you read.\n\n")


def objectives(first_cell: str) -> list[str]:
    """Every objective listed under "After this chapter you can", each whole on one line.

    An objective is a bullet (``- ``, ``* `` or ``+ ``) plus every following line that continues it (indented or
    not) up to the next bullet; the list ends at a blank line that is not followed by another bullet, or at a
    table or heading.
    """
    if OBJECTIVES not in first_cell:
        return []
    items: list[str] = []
    blank = False
    for line in first_cell.split(OBJECTIVES, 1)[1].splitlines()[1:]:
        text = line.strip()
        if not text:
            blank = True
            continue
        if BULLET.match(line):
            items.append(BULLET.sub("", line).strip())
        elif items and not blank and not text.startswith(("|", "#")):
            items[-1] += " " + text
        elif items or text.startswith(("|", "#")):
            break
        blank = False
    return items


def chapter_info(py: Path) -> dict:
    """Title, objectives, prerequisites and widget sections of one chapter."""
    nb = jupytext.read(py)
    first = nb.cells[0].source
    title = next(ln for ln in first.splitlines() if ln.startswith("# ")).lstrip("# ").strip()
    prereq = ""
    if "Prerequisites:" in first:
        prereq = " ".join(first.split("Prerequisites:", 1)[1].split("\n\n")[0].split())
    widgets, section = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((ln for ln in cell.source.splitlines() if ln.startswith("## ")), None)
            section = heading[3:].strip() if heading else section
        elif timings.WIDGET_CALL.search(cell.source) and section not in widgets:
            widgets.append(section)
    return {"stem": py.stem, "title": title, "objectives": objectives(first), "prerequisites": prereq, "widgets": widgets}


def _study(py: Path, entry: dict) -> str:
    t = timings.study_time(py, entry)
    return (f"about {timings.format_minutes(t['total'])}: reading {t['read']} min, running and exploring {t['run']} min, "
            f"exercises {t['exercises']} min (estimate; see the table above)")


def build() -> nbformat.NotebookNode:
    bench = json.loads(BENCH.read_text()) if BENCH.is_file() else {}
    pys = sorted(NOTEBOOKS.glob("0[1-9]_*.py"))
    chapters = [chapter_info(p) for p in pys]
    cells = [nbformat.v4.new_markdown_cell(
        "# Deep Learning Architectures, interactive: course index\n\n"
        "Six chapters, each a notebook that builds an architecture in plain sight, checks it against PyTorch, trains "
        "it on real data and lets you look inside with widgets. Everything runs offline on a 2-core laptop CPU; "
        "Colab works too (each chapter has its own badge).\n\n"
        "Start by running the two cells below: the first installs the course helpers when you are in Colab, the "
        "second checks your environment and says what to fix.\n\n"
        "*This notebook is generated by `python scripts/make_index.py` from the chapters themselves; edit the "
        "chapters, not this file.*")]
    cells.append(nbformat.v4.new_code_cell(setup_cells.expected_setup(echo=False)))
    cells.append(nbformat.v4.new_markdown_cell(
        "## Check your environment\n\nVersions of the key packages against the course's minimums, whether "
        "`course_utils` matches the version these notebooks were written for, the device, and whether the full "
        "Fashion-MNIST is on this machine (without it the chapters use a 4,000-image subset and say so)."))
    cells.append(nbformat.v4.new_code_cell("from course_utils import environment\n\n"
                                           "environment_ok = environment.check(COURSE_UTILS_VERSION)"))
    cells.append(nbformat.v4.new_markdown_cell(ORDER + timings.study_table(NOTEBOOKS, bench)))
    for py, ch in zip(pys, chapters):
        badge = setup_cells.expected_badge(ch["stem"])
        entry = timings.chapter_entry(bench, ch["stem"])
        after = [f"**Read it after** {READ_AFTER[ch['stem']]}", ""] if ch["stem"] in READ_AFTER else []
        lines = [f"### [{ch['title']}]({ch['stem']}.ipynb)", "",
                 f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({badge})", "", *after,
                 OBJECTIVES, *(f"- {objective}" for objective in ch["objectives"]), "",
                 f"**Prerequisites:** {ch['prerequisites'] or 'none beyond Python and PyTorch basics'}", "",
                 f"**Study time:** {_study(py, entry)}", "",
                 timings.index_runtime_line(entry), "",
                 "**Widgets in:** " + ("; ".join(ch["widgets"]) if ch["widgets"] else "none")]
        cells.append(nbformat.v4.new_markdown_cell("\n".join(lines)))
    cells.append(nbformat.v4.new_markdown_cell(
        "## Teaching and self-study\n\n"
        "- [Teaching notes](TEACHING_NOTES.md): how to plan with them, a lesson plan per chapter in classroom minutes, "
        "what to run live, discussion questions with answer keys, misconceptions, common mistakes, prerequisite "
        "self-checks, project ideas, accessibility.\n"
        "- Student editions (solutions replaced by stubs, checks kept, rubrics left out): `make student` writes them "
        "to `student/`.\n"
        "- Teacher editions (solutions shown with their expected outputs, a grading rubric after each exercise): "
        "`make teacher` writes them to `teacher/`. Neither edition is committed; the chapters are never changed.\n"
        "- Smoke mode (`COURSE_SMOKE=1`) runs any chapter in under a minute on small data, for a quick look or a "
        "live demo; the full run is what the text describes."))
    nb = nbformat.v4.new_notebook(cells=cells)
    nb.metadata.update({"jupytext": {"formats": "ipynb,py:percent"},
                        "kernelspec": {"display_name": "Python 3 (ipykernel)", "language": "python", "name": "python3"}})
    return nb


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    text = jupytext.writes(build(), fmt="py:percent")
    current = INDEX.read_text() if INDEX.is_file() else ""
    same = jupytext.read(INDEX).cells if current else None
    fresh = jupytext.reads(text, fmt="py:percent").cells
    up_to_date = same is not None and [c.source for c in same] == [c.source for c in fresh]
    if args.check:
        if not up_to_date:
            print("notebooks/00_index.py is out of date: run python scripts/make_index.py")
        return 0 if up_to_date else 1
    if not up_to_date:
        INDEX.write_text(text)
    ipynb = INDEX.with_suffix(".ipynb")
    if ipynb.is_file():  # keep the outputs, refresh the sources
        nb = nbformat.read(ipynb, as_version=4)
        if len(nb.cells) == len(fresh) and all(a.cell_type == b.cell_type for a, b in zip(nb.cells, fresh)):
            for a, b in zip(nb.cells, fresh):
                a.source = b.source
            nbformat.write(nb, ipynb)
        else:
            print("00_index.ipynb has a different cell layout; run scripts/execute_notebooks.py notebooks/00_index.py")
    print(f"{'updated' if not up_to_date else 'unchanged'}: {INDEX}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
