"""Re-render the outputs of the cells that only show library source (``show_source(...)``), without a full run.

    python scripts/refresh_shown_source.py notebooks/04_gan.ipynb ...   # rewrite those outputs in place
    python scripts/refresh_shown_source.py --check notebooks/*.ipynb    # exit 1 if any output is stale

A ``show_source`` cell displays ``inspect.getsource`` of a course_utils object, so its output is a pure function
of the package's code: when a shown function changes, the committed full-run output can be refreshed exactly
without re-running the chapter. Only cells made of ``show_source(...)`` calls (and comments) are touched; the
names they use are resolved through the notebook's own ``course_utils`` imports.
"""

from __future__ import annotations

import argparse
import ast
import inspect
import sys
from pathlib import Path

import nbformat


def _namespace(nb) -> dict:
    """Run the notebook's course_utils import statements (only those) and return the names they bind."""
    ns: dict = {}
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        try:
            tree = ast.parse(cell.source)
        except SyntaxError:  # cells with magics
            continue
        for node in ast.walk(tree):
            if isinstance(node, ast.ImportFrom) and (node.module or "").startswith("course_utils"):
                exec(compile(ast.Module([node], []), "<imports>", "exec"), ns)  # noqa: S102 - our own notebooks
    return ns


def _shown(source: str) -> list[ast.expr] | None:
    """The arguments of a cell made only of ``show_source(x)`` calls, else None."""
    try:
        tree = ast.parse(source)
    except SyntaxError:
        return None
    args = []
    for node in tree.body:
        call = node.value if isinstance(node, ast.Expr) else None
        if not (isinstance(call, ast.Call) and getattr(call.func, "id", None) == "show_source" and len(call.args) == 1):
            return None
        args.append(call.args[0])
    return args or None


def expected_outputs(args, ns) -> list:
    outputs = []
    for arg in args:
        obj = eval(compile(ast.Expression(arg), "<show_source>", "eval"), ns)  # noqa: S307 - our own notebooks
        source = inspect.getsource(obj)
        outputs.append(nbformat.v4.new_output("display_data", data={
            "text/markdown": f"```python\n{source}```", "text/plain": "<IPython.core.display.Markdown object>"}))
    return outputs


def refresh(path: Path, check: bool) -> int:
    nb = nbformat.read(path, as_version=4)
    ns = _namespace(nb)
    stale = 0
    for cell in nb.cells:
        if cell.cell_type != "code" or (args := _shown(cell.source)) is None:
            continue
        want = expected_outputs(args, ns)
        have = [{"data": dict(o.get("data", {}))} for o in cell.outputs]
        if have != [{"data": dict(o["data"])} for o in want]:
            stale += 1
            cell.outputs = want
    if stale and not check:
        nbformat.write(nb, path)
    print(f"{path}: {stale} show_source output(s) {'stale' if check else 'refreshed'}")
    return stale


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--check", action="store_true")
    args = parser.parse_args(argv)
    stale = sum(refresh(p, args.check) for p in args.notebooks)
    return 1 if args.check and stale else 0


if __name__ == "__main__":
    sys.exit(main())
