"""Measure every chapter on this machine and publish the results (what `make benchmark` runs).

    python benchmarks/run.py                       # everything: smoke + full runs, data path, browser sliders
    python benchmarks/run.py --chapters 01 03      # only these chapters (results of the others are kept)
    python benchmarks/run.py --modes smoke         # only smoke runs
    python benchmarks/run.py --store               # full runs also write their outputs into notebooks/*.ipynb
    python benchmarks/run.py --report              # only regenerate the Markdown and the README table

Each chapter runs headless in a fresh kernel (nbclient), one process at a time: wall time, peak memory of
the kernel, and, in full mode, the headline numbers the notebook stores with course_utils.results.record.
The data-path ratio comes from benchmarks/data_path.py, the slider response times from the browser tests
(tests/test_browser.py). Results go to benchmarks/results/benchmarks.json (merged, so a partial run keeps
the rest), benchmarks/results/benchmarks.md, and the README's chapter table between its benchmark markers.
Every entry names the machine it was measured on.
"""

from __future__ import annotations

import argparse
import datetime as dt
import importlib.util
import json
import os
import platform
import re
import resource
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
RESULTS = ROOT / "benchmarks" / "results"
JSON_PATH = RESULTS / "benchmarks.json"
MD_PATH = RESULTS / "benchmarks.md"
README = ROOT / "README.md"
START, END = "<!-- benchmarks:start -->", "<!-- benchmarks:end -->"

SMOKE_TARGET_S, FULL_TARGET_S, SLIDER_TARGET_MS, DATA_PATH_TARGET = 45, 360, 150, 0.5

TITLES = {
    "01_cnn": "01 Convolutional networks",
    "02_rnn_bptt": "02 Recurrent networks and BPTT",
    "03_lstm_gru": "03 LSTM and GRU",
    "04_gan": "04 Generative adversarial networks",
    "05_autoencoders": "05 Autoencoders",
    "06_vae": "06 Variational autoencoders",
}

# Quality targets from the issues: key recorded by a notebook -> (comparison, bound, how it is shown).
# For dict-valued records, ``entries`` selects which entries the target applies to.
TARGETS = {
    "cnn_test_accuracy": {"op": ">=", "bound": 0.92, "fmt": "{:.2%}"},
    "charlm_val_nats": {"op": "<=", "bound": 1.20, "fmt": "{:.3f}"},
    "adding_mse": {"op": "<", "bound": 0.01, "fmt": "{:g}", "entries": r"^(lstm|gru)_", "label": "LSTM/GRU"},
}


def machine() -> dict:
    """The machine a measurement was taken on: CPU, cores, torch version and device."""
    import torch

    from course_utils import runtime

    cpu = platform.processor() or platform.machine()
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    return {"cpu": cpu, "cores": os.cpu_count(), "torch_threads": torch.get_num_threads(), "torch": torch.__version__,
            "device": str(runtime.get_device()), "python": platform.python_version(), "os": platform.platform(terse=True)}


def _machine_label(m: dict) -> str:
    return f"{m['cores']} cores ({m['cpu']}), torch {m['torch']}, {m['device']}"


# ---------------------------------------------------------------- one run, in its own process
def section_times(nb) -> dict[str, float]:
    """Seconds spent in each ``## `` section of an executed notebook (nbclient's cell timing metadata)."""
    times: dict[str, float] = {}
    section = "Setup"
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            heading = next((ln for ln in cell.source.splitlines() if ln.startswith("## ")), None)
            if heading:
                section = heading[3:].strip()
            continue
        ex = cell.get("metadata", {}).get("execution", {})
        if "iopub.execute_input" in ex and "shell.execute_reply" in ex:
            t0 = dt.datetime.fromisoformat(ex["iopub.execute_input"].replace("Z", "+00:00"))
            t1 = dt.datetime.fromisoformat(ex["shell.execute_reply"].replace("Z", "+00:00"))
            times[section] = round(times.get(section, 0.0) + (t1 - t0).total_seconds(), 1)
    return times


def _worker(chapter: str, mode: str, out: Path, store: bool) -> None:
    """Execute one chapter in one mode; write {'seconds', 'peak_mb', 'results'} to ``out``."""
    spec = importlib.util.spec_from_file_location("execute_notebooks", ROOT / "scripts" / "execute_notebooks.py")
    executor = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(executor)
    results_file = Path(tempfile.mkdtemp()) / "results.json"
    os.environ["COURSE_RESULTS"] = str(results_file)
    target_dir = None if (store and mode == "full") else Path(tempfile.mkdtemp())
    seconds = executor.execute(ROOT / "notebooks" / f"{chapter}.py", mode == "smoke", target_dir, timeout=3600)
    # The kernel was this process's child: its peak resident memory is in the children's usage (KiB on Linux).
    peak_mb = resource.getrusage(resource.RUSAGE_CHILDREN).ru_maxrss / 1024
    recorded = json.loads(results_file.read_text()) if results_file.is_file() else {}
    import nbformat

    executed = nbformat.read((target_dir or ROOT / "notebooks") / f"{chapter}.ipynb", as_version=4)
    out.write_text(json.dumps({"seconds": seconds, "peak_mb": peak_mb, "results": recorded,
                               "sections": section_times(executed)}))


def run_chapter(chapter: str, mode: str, store: bool) -> dict:
    with tempfile.TemporaryDirectory() as tmp:
        out = Path(tmp) / "run.json"
        cmd = [sys.executable, __file__, "--worker", chapter, mode, str(out)] + (["--store"] if store else [])
        subprocess.run(cmd, check=True, cwd=ROOT)
        return json.loads(out.read_text())


# ---------------------------------------------------------------- the other two measurements
def run_data_path() -> dict:
    subprocess.run([sys.executable, str(ROOT / "benchmarks" / "data_path.py")], check=True, cwd=ROOT)
    return json.loads((RESULTS / "data_path.json").read_text())


def run_browser(chapters: list[str], artifacts: Path | None = None) -> dict:
    """Slider times per chapter: run the browser tests, or read what an earlier run left in ``artifacts``."""
    if artifacts is None:
        artifacts = ROOT / "artifacts" / "browser"
        for chapter in chapters:
            (artifacts / f"{chapter}_slider_ms.json").unlink(missing_ok=True)
        selector = " or ".join(chapters)
        env = dict(os.environ, COURSE_SMOKE="1", COURSE_HEADLESS="1", MPLBACKEND="agg")
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider",
                        str(ROOT / "tests" / "test_browser.py"), "-k", selector], cwd=ROOT, env=env, check=False)
    found = {}
    for chapter in chapters:
        path = artifacts / f"{chapter}_slider_ms.json"
        if path.is_file():
            found[chapter] = json.loads(path.read_text())["slider_to_image_ms"]
    return found


# ---------------------------------------------------------------- report
def _fmt_value(value, unit: str) -> str:
    def one(v):
        if unit == "fraction":
            return f"{v:.1%}"
        if unit == "s":
            return f"{v:.0f} s"
        if abs(v) >= 100 or float(v).is_integer():
            return f"{v:,.0f}"
        return f"{v:.4g}"

    if isinstance(value, dict):
        return ", ".join(f"{k}: {one(v)}" for k, v in value.items())
    return one(value) + (f" {unit}" if unit not in ("", "fraction", "s") else "")


def _meets(value, op: str, bound: float, entries: str | None = None) -> bool:
    values = [v for k, v in value.items() if entries is None or re.match(entries, k)] if isinstance(value, dict) else [value]
    compare = {">=": lambda v: v >= bound, "<=": lambda v: v <= bound, "<": lambda v: v < bound}[op]
    return bool(values) and all(compare(v) for v in values)


def _time_cell(entry: dict | None, target: float) -> str:
    if not entry:
        return "not measured"
    s = entry["seconds"]
    shown = f"{s:.0f} s" if s < 120 else f"{s / 60:.1f} min"
    return shown + ("" if s <= target else " ✗")


def _median(values):
    values = sorted(values)
    n = len(values)
    return (values[n // 2] if n % 2 else (values[n // 2 - 1] + values[n // 2]) / 2) if n else None


def colab_badge(chapter: str) -> str:
    """The "Open in Colab" badge of a chapter (URL from scripts/update_setup_cells.py, which reads pyproject.toml)."""
    spec = importlib.util.spec_from_file_location("update_setup_cells", ROOT / "scripts" / "update_setup_cells.py")
    setup_cells = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(setup_cells)
    return f"[![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)]({setup_cells.expected_badge(chapter)})"


def _headline(key: str, rec: dict) -> str:
    text = f"{rec.get('note') or key.replace('_', ' ')}: {_fmt_value(rec['value'], rec.get('unit', ''))}"
    target = TARGETS.get(key)
    if target:
        ok = _meets(rec["value"], target["op"], target["bound"], target.get("entries"))
        who = f"{target['label']} " if "label" in target else ""
        text += f" (target {who}{target['op']} {target['fmt'].format(target['bound'])} {'✓' if ok else '✗'})"
    return text


def render(bench: dict) -> str:
    """The Markdown tables: per-chapter runtimes and headline numbers, data path, sliders."""
    lines = ["| # | chapter | smoke run (target ≤ 45 s) | full run (target ≤ 6 min) | peak memory | headline numbers (full run) | open |",
             "|---|---|---|---|---|---|---|"]
    for chapter, title in TITLES.items():
        number, name = title.split(" ", 1)
        exists = (ROOT / "notebooks" / f"{chapter}.ipynb").is_file()
        link = f"[{name}](notebooks/{chapter}.ipynb)" if exists else f"{name} (not written yet)"
        c = bench.get("chapters", {}).get(chapter) if exists else None
        if c is None:
            lines.append(f"| {number} | {link} | not measured | not measured | | | {colab_badge(chapter) if exists else ''} |")
            continue
        peak = max((c[m]["peak_mb"] for m in ("smoke", "full") if m in c), default=None)
        heads = [_headline(key, rec) for key, rec in c.get("results", {}).items() if key != "claims"]
        claims = c.get("results", {}).get("claims")
        if claims:  # results.claim: sentences of the chapter checked against this run's numbers
            heads.append(f"claims checked by code: {claims['checked']}, failed: {claims['failed']}"
                         + (" ✗ " + "; ".join(claims["failures"]) if claims["failed"] else " ✓"))
        lines.append(f"| {number} | {link} | {_time_cell(c.get('smoke'), SMOKE_TARGET_S)} | "
                     f"{_time_cell(c.get('full'), FULL_TARGET_S)} | {f'{peak:,.0f} MB' if peak else ''} | "
                     f"{'<br>'.join(heads)} | {colab_badge(chapter)} |")
    out = lines + [""]
    dp = bench.get("data_path")
    if dp:
        out += ["Data path (one epoch, median of several; in-memory `Batches` / `DataLoader` + `ToTensor`, target ≤ "
                f"{DATA_PATH_TARGET}):", ""]
        for name, r in dp.get("results", {}).items():
            ratio, med = r["ratio"], r["median_seconds"]
            out.append(f"- {name}: {med['in-memory Batches']:.2f} s vs {med['DataLoader + ToTensor']:.2f} s per epoch of "
                       f"{dp['n_train']:,} images, ratio {ratio:.2f} {'✓' if ratio <= DATA_PATH_TARGET else '✗'}")
        out.append("")
    sliders = bench.get("sliders", {})
    if sliders:
        out += [f"Slider response in JupyterLab + Chromium (key press to new image, target ≤ {SLIDER_TARGET_MS} ms):", ""]
        for chapter, ms in sliders.items():
            ms = ms["ms"] if isinstance(ms, dict) else ms
            slow = sum(m > SLIDER_TARGET_MS for m in ms)
            out.append(f"- {chapter}: {len(ms)} sliders, median {_median(ms):.0f} ms, slowest {max(ms):.0f} ms"
                       + (f" ({slow} above target ✗)" if slow else " ✓"))
        out.append("")
    machines = sorted({_machine_label(e["machine"]) for c in bench.get("chapters", {}).values()
                       for m, e in c.items() if m in ("smoke", "full")})
    out.append("Measured on: " + "; ".join(machines) + f" (benchmarks/results/benchmarks.json, {bench.get('updated', '')}).")
    return "\n".join(out) + "\n"


def _section_order(name: str) -> tuple:
    """Notebook order (the JSON stores sections sorted by name): setup, numbered sections, then the end matter."""
    end = {"Summary": 1, "Exercises": 2, "Further reading": 3}
    if name == "Setup":
        return (0, 0, name)
    number = re.match(r"^(\d+)\.", name)
    if number:
        return (1, int(number.group(1)), name)
    return (2, end.get(name, 0), name)


def section_table(entry: dict) -> str:
    """Markdown table of the time per notebook section, full and smoke, from one chapter's results."""
    full, smoke = entry.get("full", {}).get("sections", {}), entry.get("smoke", {}).get("sections", {})
    if not full and not smoke:
        return "Not measured yet: run `python benchmarks/run.py`.\n"

    def cell(table, name):
        return f"{table[name]:.0f} s" if name in table else ""

    rows = ["| part | full run | smoke run |", "|---|---|---|"]
    rows += [f"| {name} | {cell(full, name)} | {cell(smoke, name)} |"
             for name in sorted(dict.fromkeys([*full, *smoke]), key=_section_order)]
    total = "| **whole notebook** | " + " | ".join(_time_cell(entry.get(m), t) for m, t in
                                                   (("full", FULL_TARGET_S), ("smoke", SMOKE_TARGET_S))) + " |"
    machine = next((entry[m]["machine"] for m in ("full", "smoke") if m in entry), None)
    note = f"\n(measured on {_machine_label(machine)})\n" if machine else "\n"
    return "\n".join(rows + [total]) + "\n" + note


def write_teaching_times(bench: dict) -> None:
    notes = ROOT / "notebooks" / "TEACHING_NOTES.md"
    if not notes.is_file():
        return
    text = notes.read_text()
    for chapter in TITLES:
        start, end = f"<!-- times:{chapter}:start -->", f"<!-- times:{chapter}:end -->"
        if start in text and end in text:
            head, rest = text.split(start, 1)
            _, tail = rest.split(end, 1)
            entry = bench.get("chapters", {}).get(chapter, {})
            text = head + start + "\n" + section_table(entry) + end + tail
    notes.write_text(text)


def write_report(bench: dict) -> None:
    table = render(bench)
    MD_PATH.write_text("# Benchmarks\n\nGenerated by `python benchmarks/run.py`; do not edit by hand.\n\n" + table)
    text = README.read_text()
    if START in text and END in text:
        head, rest = text.split(START, 1)
        _, tail = rest.split(END, 1)
        README.write_text(head + START + "\n" + table + END + tail)
    else:
        print(f"README.md has no {START} ... {END} markers; the table is only in {MD_PATH}", file=sys.stderr)


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="*", help="chapter numbers or names (default: all that exist)")
    parser.add_argument("--modes", nargs="*", default=["smoke", "full"], choices=["smoke", "full"])
    parser.add_argument("--store", action="store_true", help="full runs also store their outputs in notebooks/*.ipynb")
    parser.add_argument("--skip-data-path", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--browser-artifacts", type=Path,
                        help="read slider times from this folder of an earlier browser-test run instead of running them")
    parser.add_argument("--report", action="store_true", help="only regenerate the Markdown and README from the JSON")
    parser.add_argument("--worker", nargs=3, metavar=("CHAPTER", "MODE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker[0], args.worker[1], Path(args.worker[2]), args.store)
        return 0

    bench = json.loads(JSON_PATH.read_text()) if JSON_PATH.is_file() else {}
    if not args.report:
        existing = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-9]_*.py"))
        wanted = existing if not args.chapters else [c for c in existing if any(c.startswith(a) for a in args.chapters)]
        if args.chapters and not wanted:
            parser.error(f"no chapter matches {args.chapters}; chapters: {existing}")
        here = machine()
        now = dt.datetime.now(dt.UTC).strftime("%Y-%m-%d %H:%M UTC")
        for chapter in wanted:
            entry = bench.setdefault("chapters", {}).setdefault(chapter, {})
            for mode in args.modes:
                print(f"{chapter}: {mode} run ...", flush=True)
                run = run_chapter(chapter, mode, args.store)
                entry[mode] = {"seconds": round(run["seconds"], 1), "peak_mb": round(run["peak_mb"]), "machine": here,
                               "measured": now, "sections": run["sections"]}
                if mode == "full":
                    entry["results"] = run["results"]
                print(f"{chapter}: {mode} run took {run['seconds']:.1f} s, peak memory {run['peak_mb']:.0f} MB", flush=True)
                bench["updated"] = now
                RESULTS.mkdir(parents=True, exist_ok=True)
                JSON_PATH.write_text(json.dumps(bench, indent=2, sort_keys=True) + "\n")  # keep what is done so far
        if not args.skip_data_path:
            bench["data_path"] = run_data_path() | {"measured": now}
        elif "data_path" not in bench and (RESULTS / "data_path.json").is_file():  # keep the last measurement
            bench["data_path"] = json.loads((RESULTS / "data_path.json").read_text())
        if not args.skip_browser:
            for chapter, ms in run_browser(wanted, args.browser_artifacts).items():
                bench.setdefault("sliders", {})[chapter] = {"ms": [round(m) for m in ms], "machine": here, "measured": now}
        bench["updated"] = now
        RESULTS.mkdir(parents=True, exist_ok=True)
        JSON_PATH.write_text(json.dumps(bench, indent=2, sort_keys=True) + "\n")
    write_report(bench)
    write_teaching_times(bench)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_index.py")], check=True, cwd=ROOT)  # runtimes in the index
    print(render(bench))
    return 0


if __name__ == "__main__":
    sys.exit(main())
