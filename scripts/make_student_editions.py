"""Write the student edition of every chapter: exercise solutions replaced by stubs, checks kept.

    python scripts/make_student_editions.py [--output student] [notebooks/01_cnn.ipynb ...]

For each chapter notebook, every cell tagged ``solution`` becomes a visible stub: imports stay, each
function or method keeps its signature and docstring but its body becomes ``# your code here`` +
``raise NotImplementedError``, every top-level name the solution assigned is set to ``None``, and
everything else (training loops, prints) is removed. The outputs of the stub and of the check cell after
it are cleared; all other outputs stay, so the notebook still reads well before it is run. The check
cells then report "not yet solved" until the learner writes the answer. Editions go to a separate folder
(``student/`` by default, ignored by git); the originals are never touched.
"""

from __future__ import annotations

import argparse
import ast
import sys
from pathlib import Path

import nbformat

ROOT = Path(__file__).resolve().parents[1]
STUB_HEADER = "# Exercise: write your answer here; the check in the next cell tells you when it is right."
TODO = "# your code here"


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
    """A copy of ``nb`` with every solution cell stubbed; returns it and the number of stubs."""
    nb = nbformat.from_dict(nb)
    count, clear_next = 0, False
    for i, cell in enumerate(nb.cells):
        tags = cell.metadata.get("tags", [])
        if cell.cell_type != "code":
            continue
        if "solution" in tags:
            following = nb.cells[i + 1] if i + 1 < len(nb.cells) else None
            check = following.source if following is not None and following.cell_type == "code" else ""
            cell.source = stub_source(cell.source, check)
            cell.metadata["tags"] = [t for t in tags if t != "solution"] + ["exercise"]
            cell.metadata.pop("jupyter", None)  # visible, not collapsed
            cell.outputs, cell.execution_count = [], None
            count, clear_next = count + 1, True
        elif clear_next:
            cell.outputs, cell.execution_count = [], None
            clear_next = False
    nb.metadata["course_edition"] = "student"
    return nb, count


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="*", type=Path, help="default: every chapter in notebooks/")
    parser.add_argument("--output", type=Path, default=ROOT / "student", help="folder for the editions")
    args = parser.parse_args(argv)
    paths = args.notebooks or sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
    out = args.output.resolve()
    if out == (ROOT / "notebooks").resolve():
        parser.error("the output folder must not be notebooks/: student editions never replace the originals")
    out.mkdir(parents=True, exist_ok=True)
    for path in paths:
        nb, count = student_notebook(nbformat.read(path, as_version=4))
        if count == 0:
            print(f"{path.name}: no solution cells found", file=sys.stderr)
        nbformat.write(nb, out / path.name)
        print(f"{path.name}: {count} exercise(s) stubbed -> {out / path.name}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
