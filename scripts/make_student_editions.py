"""Write the student edition of every chapter: exercise solutions replaced by stubs, checks kept, rubrics dropped.

    python scripts/make_student_editions.py [--output student] [notebooks/01_cnn.ipynb ...]

For each chapter notebook, every cell tagged ``solution`` becomes a visible stub: imports stay, each
function or method keeps its signature and docstring but its body becomes ``# your code here`` +
``raise NotImplementedError``, every top-level name the solution assigned is set to ``None``, and
everything else (training loops, prints) is removed. The outputs of the stub and of the check cell after
it are cleared; all other outputs stay, so the notebook still reads well before it is run. The check
cells then report "not yet solved" until the learner writes the answer. The teacher's grading rubrics
(Markdown cells tagged ``rubric``) are left out. Editions go to a separate folder (``student/`` by default,
ignored by git); the originals are never touched.

The teacher edition (scripts/make_teacher_editions.py, ``make teacher``) is built by the same code here:
``exercises`` finds each exercise (its statement, solution, check and rubric cells) for both editions, and
``main`` is the command line of both.
"""

from __future__ import annotations

import argparse
import ast
import re
import sys
from pathlib import Path
from typing import NamedTuple

import nbformat

ROOT = Path(__file__).resolve().parents[1]
STUB_HEADER = "# Exercise: write your answer here; the check in the next cell tells you when it is right."
TODO = "# your code here"
SOLUTION, RUBRIC = "solution", "rubric"
RUBRIC_START = "**Rubric (teacher edition).**"
_EXERCISE_TITLE = re.compile(r"\*\*(Exercise \d+[^*]*?)\.?\*\*")


class Exercise(NamedTuple):
    """One exercise of a chapter, by cell index: its solution cells, the check after them, its rubric (or None)."""

    title: str
    solutions: tuple[int, ...]
    check: int | None
    rubric: int | None


def _tagged(cell, tag: str) -> bool:
    return tag in cell.metadata.get("tags", [])


def check_cell(cells: list, i: int) -> int | None:
    """The check of the solution cell ``i``: the first later code cell that calls ``checks.check_...`` before any
    other exercise's solution, else the first later code cell that is not a solution."""
    following = []
    for j in range(i + 1, len(cells)):
        if cells[j].cell_type != "code":
            continue
        if _tagged(cells[j], SOLUTION):
            if following:  # the next exercise begins
                break
            continue
        following.append(j)
    return next((j for j in following if "checks.check_" in cells[j].source), following[0] if following else None)


def exercises(nb: nbformat.NotebookNode) -> list[Exercise]:
    """Every exercise of a chapter: its ``solution`` cells (one, or several with no other code cell between them),
    the check after them, and the ``rubric`` cell that follows before the next exercise's solution; titled by the
    "**Exercise N: ...**" above it."""
    cells = nb.cells
    groups: list[list[int]] = []
    for i, cell in enumerate(cells):
        if cell.cell_type == "code" and _tagged(cell, SOLUTION):
            if groups and check_cell(cells, groups[-1][-1]) == check_cell(cells, i):
                groups[-1].append(i)
            else:
                groups.append([i])
    found = []
    for n, group in enumerate(groups):
        check = check_cell(cells, group[-1])
        stop = groups[n + 1][0] if n + 1 < len(groups) else len(cells)
        rubric = next((j for j in range(group[-1] + 1, stop)
                       if cells[j].cell_type == "markdown" and _tagged(cells[j], RUBRIC)), None)
        titles = [m.group(1) for c in cells[: group[0]] if c.cell_type == "markdown"
                  for m in _EXERCISE_TITLE.finditer(c.source)]
        found.append(Exercise(titles[-1] if titles else f"the exercise of cell {group[0]}", tuple(group), check, rubric))
    return found


def _show(cell) -> None:
    """Make a cell visible: no collapsed source."""
    jupyter = cell.metadata.get("jupyter", {})
    jupyter.pop("source_hidden", None)
    if not jupyter:
        cell.metadata.pop("jupyter", None)


def _stub_function(node: ast.FunctionDef | ast.AsyncFunctionDef) -> ast.AST:
    body = []
    if ast.get_docstring(node) is not None:
        body.append(node.body[0])
    body.append(ast.Raise(exc=ast.Name(id="NotImplementedError", ctx=ast.Load()), cause=None))
    node.body = body
    return node


def _bound_names(target: ast.AST) -> list[str]:
    return [n.id for n in ast.walk(target) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Store)]


def solution_names(source: str) -> set[str]:
    """Every name a solution cell binds at top level (defs, classes, assignments, loop variables)."""
    names = set()
    for node in ast.parse(source).body:
        if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            names.add(node.name)
        else:
            for sub in ast.walk(node):
                if isinstance(sub, (ast.FunctionDef, ast.AsyncFunctionDef, ast.Lambda, ast.ClassDef)):
                    continue
                if isinstance(sub, ast.Name) and isinstance(sub.ctx, ast.Store):
                    names.add(sub.id)
    return names


def loaded_names(source: str) -> set[str]:
    """Every name a cell reads."""
    return {n.id for n in ast.walk(ast.parse(source)) if isinstance(n, ast.Name) and isinstance(n.ctx, ast.Load)}


def stub_source(source: str, check_source: str = "") -> str:
    """The student version of a solution cell's source (``check_source``: the check cell that follows it)."""
    tree = ast.parse(source)
    kept: list[str] = []
    defined: set[str] = set()
    for node in tree.body:
        if isinstance(node, (ast.Import, ast.ImportFrom)):
            kept.append(ast.unparse(node))
        elif isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
            kept.append(ast.unparse(_stub_function(node)))
            defined.add(node.name)
        elif isinstance(node, ast.ClassDef):
            body = [node.body[0]] if ast.get_docstring(node) is not None else []
            body += [_stub_function(n) for n in node.body if isinstance(n, (ast.FunctionDef, ast.AsyncFunctionDef))]
            node.body = body or [ast.Pass()]
            kept.append(ast.unparse(node))
            defined.add(node.name)
    # Names the check reads that the solution bound by assignment start as None, so the check can run.
    rest = sorted((solution_names(source) - defined) & loaded_names(check_source))
    lines = []
    for line in "\n\n\n".join(kept).splitlines():  # a TODO comment above each raise, at its indent
        if line.strip() == "raise NotImplementedError":
            lines.append(line[: len(line) - len(line.lstrip())] + TODO)
        lines.append(line)
    text = "\n".join(lines)
    assigns = "\n".join(f"{name} = None  {TODO}" for name in rest)
    parts = [STUB_HEADER] + ([text] if text else []) + ([assigns] if assigns else [])
    return "\n\n".join(parts) + "\n"


def student_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, int]:
    """A copy of ``nb`` with every solution cell stubbed and every rubric cell left out; returns it and the stubs."""
    nb = nbformat.from_dict(nb)
    nb.cells = [c for c in nb.cells if not (c.cell_type == "markdown" and _tagged(c, RUBRIC))]
    count, clear_next = 0, False
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code":
            continue
        if "solution" in tags:
            j = check_cell(nb.cells, i)
            check = nb.cells[j].source if j is not None else ""
            cell.source = stub_source(cell.source, check)
            cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
            _show(cell)
            cell.outputs, cell.execution_count = [], None
            count, clear_next = count + 1, True
        elif clear_next:
            cell.outputs, cell.execution_count = [], None
            clear_next = False
    nb.metadata["course_edition"] = "student"
    return nb, count


def teacher_banner(nb: nbformat.NotebookNode, lacking: list[str]) -> str:
    """The first cell of a teacher edition: what it is, and which exercises have no rubric yet."""
    title = next((ln.lstrip("# ").strip() for ln in nb.cells[0].source.splitlines() if ln.startswith("# ")), "")
    text = (f"**Teacher edition{' of ' + title if title else ''}.** Generated by `make teacher` from the chapter in "
            "`notebooks/`; do not hand it out (`make student` writes the learners' edition). Every exercise's "
            "solution is shown with the outputs of the committed full run, which are the expected outputs, and is "
            "followed by its check and by a grading rubric. The lesson plan, discussion questions and answer keys are "
            "in [the teaching notes](../notebooks/TEACHING_NOTES.md).")
    if lacking:
        text += "\n\n*No rubric yet for:* " + "; ".join(lacking) + "."
    return text


def teacher_notebook(nb: nbformat.NotebookNode) -> tuple[nbformat.NotebookNode, list[str]]:
    """A copy of ``nb`` with solutions and rubrics visible, outputs kept, and a first cell saying what it is.

    Returns it and the titles of the exercises that have no rubric cell."""
    nb = nbformat.from_dict(nb)
    found = exercises(nb)
    for ex in found:
        for i in (*ex.solutions, ex.rubric):
            if i is not None:
                _show(nb.cells[i])
    lacking = [ex.title for ex in found if ex.rubric is None]
    banner = nbformat.v4.new_markdown_cell(teacher_banner(nb, lacking), metadata={"tags": ["teacher-edition"]})
    banner["id"] = "teacher-edition"  # a fixed id: rebuilding gives the same file
    nb.cells.insert(0, banner)
    nb.metadata["course_edition"] = "teacher"
    return nb, lacking


EDITIONS = {"student": ROOT / "student", "teacher": ROOT / "teacher"}


def main(argv=None, edition: str = "student") -> int:
    """The command line of both editions: read each chapter, write its ``edition`` into the output folder."""
    if edition not in EDITIONS:
        raise ValueError(f"edition must be one of {sorted(EDITIONS)}, not {edition!r}.")
    parser = argparse.ArgumentParser(description=f"Write the {edition} edition of every chapter.")
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in notebooks/")
    parser.add_argument("--output", type=Path, default=EDITIONS[edition], help="folder for the editions")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
    out = args.output.resolve()
    if out == (ROOT / "notebooks").resolve() or any(out == p.parent.resolve() for p in paths):
        parser.error(f"the output folder must not hold the chapters: {edition} editions never replace the originals")
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        original = nbformat.read(path, as_version=4)
        if edition == "student":
            nb, count = student_notebook(original)
            if count == 0:
                print(f"{path.name}: no solution cells found", file=sys.stderr)
            summary = f"{count} exercise(s) stubbed"
        else:
            nb, lacking = teacher_notebook(original)
            summary = f"{len(exercises(original))} exercise(s) with solutions shown"
            if lacking:
                print(f"{path.name}: no rubric cell for " + "; ".join(lacking), file=sys.stderr)
        nbformat.write(nb, out / path.name)
        print(f"{path.name}: {summary} -> {out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
