"""Print the slowest cells of an executed notebook (from nbclient's timing metadata).

    python scripts/cell_times.py build/smoke/01_cnn.ipynb [--top 10]
"""

import argparse
from datetime import datetime

import nbformat


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("notebook")
    parser.add_argument("--top", type=int, default=10)
    args = parser.parse_args()
    nb = nbformat.read(args.notebook, as_version=4)
    rows = []
    for i, cell in enumerate(nb.cells):
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            t0 = datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
            t1 = datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
            first = next((ln for ln in cell.source.splitlines() if ln.strip() and not ln.startswith("#")), "")
            rows.append(((t1 - t0).total_seconds(), i, first[:70]))
    for sec, i, first in sorted(rows, reverse=True)[: args.top]:
        print(f"{sec:7.1f} s  cell {i:3d}  {first}")
    print(f"{sum(r[0] for r in rows):7.1f} s  total")


if __name__ == "__main__":
    main()
