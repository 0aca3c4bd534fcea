"""Execute chapter notebooks headless and store their outputs (what `make execute` runs).

    python scripts/execute_notebooks.py notebooks/01_cnn.py [...] [--smoke] [--output DIR]

For each chapter it rebuilds the .ipynb's cells from the .py (jupytext), runs every cell in a fresh
kernel (full mode unless --smoke), drops widget state, and writes the notebook back (or into
--output). It prints the wall time of each chapter, so the README's runtime table can be checked.
"""

import argparse
import os
import time
from pathlib import Path

import jupytext
import nbformat
from nbclient import NotebookClient


def execute(py_path: Path, smoke: bool, out_dir: Path | None, timeout: int) -> float:
    nb = jupytext.read(py_path)
    ipynb = py_path.with_suffix(".ipynb")
    os.environ["COURSE_HEADLESS"] = "1"
    os.environ["COURSE_SMOKE"] = "1" if smoke else "0"
    start = time.perf_counter()
    NotebookClient(nb, timeout=timeout, kernel_name="python3", resources={"metadata": {"path": str(py_path.parent)}},
                   store_widget_state=False).execute()
    seconds = time.perf_counter() - start
    nb.metadata.pop("widgets", None)
    target = (out_dir / ipynb.name) if out_dir else ipynb
    target.parent.mkdir(parents=True, exist_ok=True)
    nbformat.write(nb, target)
    return seconds


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebooks", nargs="+", type=Path)
    parser.add_argument("--smoke", action="store_true", help="run in smoke mode (COURSE_SMOKE=1)")
    parser.add_argument("--output", type=Path, help="write executed notebooks here instead of next to the .py")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    args = parser.parse_args()
    for path in args.notebooks:
        py_path = path.with_suffix(".py")
        seconds = execute(py_path, args.smoke, args.output, args.timeout)
        print(f"{py_path.stem}: {'smoke' if args.smoke else 'full'} run took {seconds:.1f} s", flush=True)


if __name__ == "__main__":
    main()
