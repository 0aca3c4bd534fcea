"""Measure every chapter on this machine and publish the results (what `make benchmark` runs).

    python benchmarks/run.py                       # everything: smoke + full runs, data path, browser sliders
    python benchmarks/run.py --chapters 01 03      # only these chapters (results of the others are kept)
    python benchmarks/run.py --modes smoke         # only smoke runs
    python benchmarks/run.py --store               # full runs also write their outputs into notebooks/*.ipynb
    python benchmarks/run.py --only site           # one leg (data-path, browser or site) and no chapter runs
    python benchmarks/run.py --report              # only regenerate every table and time from the JSON
    python benchmarks/run.py --check               # exit 1 unless every place states what the JSON holds

Each chapter runs headless in a fresh kernel (nbclient), one process at a time: wall time, peak memory of
the kernel, and, in full mode, the headline numbers the notebook stores with course_utils.results.record.
The data-path ratio comes from benchmarks/data_path.py, the slider response times in JupyterLab from the browser
tests (tests/test_browser.py) and those on the website from its browser test (tests/site, which writes
artifacts/site/widget_ms.json; the site must be built first, `make site-smoke`, which this script does not do: it
takes the torch lock itself). Results go to benchmarks/results/benchmarks.json (merged, so a partial run keeps
the rest). From that one file come every time the course states (scripts/timings.py): the README's chapter
table between its benchmark markers and benchmarks/results/benchmarks.md, the per-part tables of the teaching
notes, the course index's runtimes (scripts/make_index.py) and the chapter headers' runtime rows (the chapters
measured in this run; all of them with --report, which also puts the markers into headers that lack them).
The model targets (benchmarks/results/target_*.json, written by benchmarks/target_*.py) are rendered into
benchmarks.md and the README's "Model targets" block. Every entry names the machine it was measured on.
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
TARGETS_START, TARGETS_END = "<!-- targets:start -->", "<!-- targets:end -->"

_spec = importlib.util.spec_from_file_location("course_timings", ROOT / "scripts" / "timings.py")
timings = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = timings
_spec.loader.exec_module(timings)

SMOKE_TARGET_S, FULL_TARGET_S = timings.TARGET_S["smoke"], timings.TARGET_S["full"]
# Key press to new image, median per slider: in JupyterLab (a kernel round trip unless the view is kernel-free) and
# on the website (no kernel: the browser shows another precomputed frame). Issue 19's targets.
SLIDER_TARGET_MS, SITE_SLIDER_TARGET_MS, DATA_PATH_TARGET = 100, 30, 0.5

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
    return timings.machine_label(m)


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


def run_site(artifacts: Path | None = None) -> dict:
    """Widget times on the built website, per page: run tests/site on ``build/site``, or read what an earlier run
    left in ``artifacts`` (its widget_ms.json). Returns {page: {"sliders": {label: ms}, "other": {label: ms}}} for
    the pages that have kernel-free widgets; {} when the site is not built."""
    if artifacts is None:
        artifacts = ROOT / "artifacts" / "site"
        if not (ROOT / "build" / "site" / "index.html").is_file():
            print("site leg skipped: build/site is not built (make site-smoke builds it)", file=sys.stderr)
            return {}
        (artifacts / "widget_ms.json").unlink(missing_ok=True)
        subprocess.run([sys.executable, "-m", "pytest", "-q", "-p", "no:cacheprovider", str(ROOT / "tests" / "site")],
                       cwd=ROOT, env=dict(os.environ, COURSE_REQUIRE_SITE="1"), check=False)
    path = artifacts / "widget_ms.json"
    if not path.is_file():
        print(f"site leg: no {path} (tests/site writes it)", file=sys.stderr)
        return {}
    found = {}
    for page, entry in json.loads(path.read_text()).items():
        controls = entry.get("controls_ms") or {}
        if controls:  # keys like "widget 0 · slider 0 noise std"
            found[Path(page).stem] = {
                "sliders": {k: v for k, v in controls.items() if " · slider " in k},
                "other": {k: v for k, v in controls.items() if " · slider " not in k}}
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


_time_cell = timings.time_cell


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


def _slider_line(name: str, ms: list, target: float) -> str:
    """'- 01_cnn: 7 sliders, median 65 ms, slowest 92 ms ✓' (or how many are above ``target``)."""
    slow = sum(m > target for m in ms)
    return (f"- {name}: {len(ms)} slider{'s' if len(ms) != 1 else ''}, median {_median(ms):.0f} ms, "
            f"slowest {max(ms):.0f} ms" + (f" ({slow} above target ✗)" if slow else " ✓"))


def _control_name(key: str) -> str:
    """'widget 0 · dropdown 1 layer' (tests/site's key) -> 'dropdown "layer"'."""
    kind, _, label = key.split(" · ", 1)[-1].partition(" ")
    label = label.partition(" ")[2]
    return f'{kind} "{label}"' if label else kind


def render(bench: dict) -> str:
    """The Markdown tables: per-chapter runtimes and headline numbers, data path, sliders."""
    lines = ["| # | chapter | smoke run (target ≤ 45 s) | full run (target ≤ 6 min) | peak memory | claims checked by code "
             "(full run) | headline numbers (full run) | open |", "|---|---|---|---|---|---|---|---|"]
    failures = []
    for chapter, title in TITLES.items():
        number, name = title.split(" ", 1)
        exists = (ROOT / "notebooks" / f"{chapter}.ipynb").is_file()
        link = f"[{name}](notebooks/{chapter}.ipynb)" if exists else f"{name} (not written yet)"
        c = bench.get("chapters", {}).get(chapter) if exists else None
        if c is None:
            lines.append(f"| {number} | {link} | not measured | not measured | | | | {colab_badge(chapter) if exists else ''} |")
            continue
        peak = max((c[m]["peak_mb"] for m in ("smoke", "full") if m in c), default=None)
        heads = [_headline(key, rec) for key, rec in c.get("results", {}).items() if key != "claims"]
        claims = c.get("results", {}).get("claims")  # results.claim: sentences checked against this run's numbers
        failures += [f"- {number}: {sentence}" for sentence in (claims or {}).get("failures", [])]
        lines.append(f"| {number} | {link} | {_time_cell(c.get('smoke'), SMOKE_TARGET_S)} | "
                     f"{_time_cell(c.get('full'), FULL_TARGET_S)} | {f'{peak:,.0f} MB' if peak else ''} | "
                     f"{_claims_cell(claims, 'full' in c)} | {'<br>'.join(heads)} | {colab_badge(chapter)} |")
    out = lines + [""]
    if failures:
        out += ["Claims the last full run contradicted (the chapter's text says them; its numbers do not):", "",
                *failures, ""]
    dp = bench.get("data_path")
    if dp:
        out += render_data_path(dp)
    sliders = bench.get("sliders", {})
    if sliders:
        out += [f"Slider response in JupyterLab + Chromium (key press to new image, target ≤ {SLIDER_TARGET_MS} ms):", ""]
        for chapter, ms in sliders.items():
            ms = ms["ms"] if isinstance(ms, dict) else ms
            out.append(_slider_line(chapter, ms, SLIDER_TARGET_MS))
        out.append("")
    site = bench.get("site", {})
    if site:
        out += [f"Widgets on the website, no kernel (headless Chromium; key press to new image, median per slider, "
                f"target ≤ {SITE_SLIDER_TARGET_MS} ms; from `make site-smoke` and tests/site):", ""]
        for page, entry in site.items():
            ms = list(entry["sliders"].values())
            other = ", ".join(f"{_control_name(k)} {v:.0f} ms" for k, v in entry["other"].items())
            line = _slider_line(page, ms, SITE_SLIDER_TARGET_MS) if ms else f"- {page}: no slider"
            out.append(line + (f"; other controls: {other}" if other else ""))
        out.append("")
    machines = sorted({_machine_label(e["machine"]) for c in bench.get("chapters", {}).values()
                       for m, e in c.items() if m in ("smoke", "full")})
    out.append("Measured on: " + "; ".join(machines) + f" (benchmarks/results/benchmarks.json, {bench.get('updated', '')}).")
    return "\n".join(out) + "\n"


_section_order, section_table = timings._section_order, timings.section_table
TIMES_LABEL = ("**Kernel time per part** (seconds the computer spends, not classroom minutes; generated from "
               "benchmarks/results/benchmarks.json by `python benchmarks/run.py`):")


def _insert_times(text: str, chapter: str, body: str) -> str:
    """``text`` with a times block for ``chapter`` added at the end of its ``## NN`` section (if it has one)."""
    heading = re.search(rf"^## {chapter[:2]}\b.*$", text, flags=re.M)
    if heading is None:
        return text
    following = re.search(r"^## ", text[heading.end():], flags=re.M)
    at = heading.end() + following.start() if following else len(text)
    start, end = timings.times_markers(chapter)
    insert = f"{TIMES_LABEL}\n\n{start}\n{body}{end}\n\n"
    return text[:at].rstrip("\n") + "\n\n" + insert + text[at:].lstrip("\n")


def write_teaching_times(bench: dict) -> None:
    """The teaching notes' per-part kernel times (a block per chapter section) and the study-time table."""
    notes = ROOT / "notebooks" / "TEACHING_NOTES.md"
    if not notes.is_file():
        return
    text = notes.read_text()
    for chapter in TITLES:
        body = section_table(timings.chapter_entry(bench, chapter))
        start, end = timings.times_markers(chapter)
        if start in text and end in text:
            text = timings.replace_block(text, start, end, body)
        else:
            text = _insert_times(text, chapter, body)
    if all(m in text for m in timings.STUDY_MARKERS):
        text = timings.replace_block(text, *timings.STUDY_MARKERS, timings.study_table(ROOT / "notebooks", bench))
    if text != notes.read_text():
        notes.write_text(text)


def _claims_cell(claims: dict | None, measured: bool) -> str:
    if not measured:
        return ""
    if not claims:
        return "none recorded"
    return f"{claims['checked']} checked, {claims['failed']} failed " + ("✗" if claims["failed"] else "✓")


def render_data_path(dp: dict) -> list[str]:
    """The data-path lines: the ratio where data loading matters (MLP), the epoch split where compute dominates (CNN)."""
    n = dp["n_train"]
    where = f", on {_machine_label(dp['machine'])}" if {"cores", "cpu", "torch", "device"} <= set(dp.get("machine", {})) else ""
    out = [f"Data path (one epoch of {n:,} images, median of {dp.get('repeats', 'several')}{where}; the course's in-memory "
           f"`Batches` against a torchvision `DataLoader` + `ToTensor`):", ""]
    for name, r in dp.get("results", {}).items():
        split = r.get("split")
        if r.get("report") == "split" and split:
            b, d = split["in-memory Batches"], split["DataLoader + ToTensor"]
            share = {k: v["data"] / (v["data"] + v["compute"]) for k, v in split.items()}
            out.append(f"- {name} (compute-bound), the epoch split: data {b['data']:.2f} s + compute {b['compute']:.1f} s "
                       f"with `Batches`, data {d['data']:.2f} s + compute {d['compute']:.1f} s with the `DataLoader`. "
                       f"`Batches` cuts the data time to {b['data'] / d['data']:.2f} of the DataLoader's; loading is "
                       f"{share['in-memory Batches']:.1%} of the epoch with `Batches` and "
                       f"{share['DataLoader + ToTensor']:.1%} with the `DataLoader`, the rest is the model's compute, "
                       "which no data path changes.")
            continue
        ratio, med = r["ratio"], r["median_seconds"]
        out.append(f"- {name}: {med['in-memory Batches']:.2f} s vs {med['DataLoader + ToTensor']:.2f} s per epoch, ratio "
                   f"{ratio:.2f} (target ≤ {DATA_PATH_TARGET}) {'✓' if ratio <= DATA_PATH_TARGET else '✗'}")
    return out + [""]


# ---------------------------------------------------------------- model targets (benchmarks/target_*.py)
def _cell(value) -> str:
    return str(value).replace("|", "\\|").replace("\n", " ")


def _target_block(t: dict) -> list[str]:
    for key in ("title", "command", "date", "machine", "table", "targets", "notes"):
        if key not in t:
            raise KeyError(f"no {key!r} key")
    columns, rows = t["table"]["columns"], t["table"]["rows"]
    if any(len(row) != len(columns) for row in rows):
        raise ValueError(f"a table row does not have the {len(columns)} columns {columns}")
    out = [f"**{t['title']}**", "", "| " + " | ".join(_cell(c) for c in columns) + " |",
           "|" + "---|" * len(columns), *("| " + " | ".join(_cell(v) for v in row) + " |" for row in rows), "",
           "| target | measured | wanted | met |", "|---|---|---|---|"]
    for target in t["targets"]:
        if not isinstance(target.get("met"), bool):
            raise ValueError(f"target {target.get('what')!r} has no true/false 'met'")
        out.append(f"| {_cell(target['what'])} | {_cell(target['measured'])} | {_cell(target['target'])} | "
                   f"{'✓' if target['met'] else '✗ missed'} |")
    return out + ["", _cell(t["notes"]), "", f"Measured by `{t['command']}` on {t['machine']}, {t['date']}.", ""]


def render_targets(results: Path = RESULTS) -> str:
    """Every benchmarks/results/target_*.json as Markdown: its table, its targets met or missed, its notes."""
    files = sorted(results.glob("target_*.json"))
    if not files:
        return "No model-target results yet (each `benchmarks/target_*.py` writes `benchmarks/results/target_*.json`).\n"
    out, met, total = [], 0, 0
    for path in files:
        try:
            t = json.loads(path.read_text())
            out += _target_block(t)
            met += sum(target["met"] for target in t["targets"])
            total += len(t["targets"])
        except (ValueError, KeyError, TypeError, AttributeError) as err:
            out += [f"`{path.name}` could not be rendered: {err}.", ""]
    scripts = f"{len(files)} benchmark script" + ("s" if len(files) != 1 else "")
    return f"{met} of {total} model targets met ({scripts}).\n\n" + "\n".join(out)


def write_report(bench: dict) -> None:
    table, targets = render(bench), render_targets()
    MD_PATH.write_text("# Benchmarks\n\nGenerated by `python benchmarks/run.py`; do not edit by hand.\n\n" + table
                       + "\n## Model targets\n\n" + targets)
    text = README.read_text()
    for start, end, body, what in ((START, END, table, "chapter table"), (TARGETS_START, TARGETS_END, targets, "model targets")):
        if start in text and end in text:
            text = timings.replace_block(text, start, end, body)
        else:
            print(f"README.md has no {start} ... {end} markers; the {what} is only in {MD_PATH}", file=sys.stderr)
    README.write_text(text)


def check(bench: dict) -> list[str]:
    """Every place that states a benchmark number but differs from benchmarks.json (empty: all agree)."""
    problems = timings.disagreements(ROOT, render(bench))
    readme = README.read_text()
    if timings.block(readme, TARGETS_START, TARGETS_END) not in (None, render_targets()):
        problems.append("the README's model targets differ from benchmarks/results/target_*.json")
    return problems


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--chapters", nargs="*", help="chapter numbers or names (default: all that exist)")
    parser.add_argument("--modes", nargs="*", default=["smoke", "full"], choices=["smoke", "full"])
    parser.add_argument("--store", action="store_true", help="full runs also store their outputs in notebooks/*.ipynb")
    parser.add_argument("--skip-data-path", action="store_true")
    parser.add_argument("--skip-browser", action="store_true")
    parser.add_argument("--browser-artifacts", type=Path,
                        help="read slider times from this folder of an earlier browser-test run instead of running them")
    parser.add_argument("--skip-site", action="store_true")
    parser.add_argument("--site-artifacts", type=Path,
                        help="read the website's widget times from this folder of an earlier tests/site run "
                             "(its widget_ms.json) instead of running tests/site")
    parser.add_argument("--only", choices=["data-path", "browser", "site"],
                        help="run this one leg and no chapter: the other results are kept")
    parser.add_argument("--report", action="store_true",
                        help="only regenerate every table and time (README, notes, index, chapter headers) from the JSON")
    parser.add_argument("--check", action="store_true", help="exit 1 unless every place states what the JSON holds")
    parser.add_argument("--worker", nargs=3, metavar=("CHAPTER", "MODE", "OUT"), help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.worker:
        _worker(args.worker[0], args.worker[1], Path(args.worker[2]), args.store)
        return 0

    bench = json.loads(JSON_PATH.read_text()) if JSON_PATH.is_file() else {}
    if args.check:
        problems = check(bench)
        print("\n".join(problems) if problems else "every place agrees with benchmarks/results/benchmarks.json")
        return 1 if problems else 0
    wanted = sorted(p.stem for p in (ROOT / "notebooks").glob("0[1-9]_*.py"))
    if args.only:
        args.modes = []
        args.skip_data_path, args.skip_browser, args.skip_site = (args.only != leg for leg in ("data-path", "browser", "site"))
    if not args.report:
        existing = wanted
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
        if not args.skip_site:
            site = run_site(args.site_artifacts)
            if site:  # a page no longer built drops out; nothing measured keeps the last measurement
                bench["site"] = {page: entry | {"machine": here, "measured": now} for page, entry in site.items()}
        bench["updated"] = now
        RESULTS.mkdir(parents=True, exist_ok=True)
        JSON_PATH.write_text(json.dumps(bench, indent=2, sort_keys=True) + "\n")
    # Chapter headers first (the study times below count the chapters' words): those measured now (only where
    # the markers already are), or all of them with --report.
    for chapter in timings.write_chapter_headers(bench, wanted, ROOT / "notebooks", insert=args.report):
        print(f"{chapter}: header runtimes rewritten in the .py and the .ipynb")
    write_report(bench)
    write_teaching_times(bench)
    subprocess.run([sys.executable, str(ROOT / "scripts" / "make_index.py")], check=True, cwd=ROOT)  # runtimes in the index
    print(render(bench))
    return 0


if __name__ == "__main__":
    sys.exit(main())
