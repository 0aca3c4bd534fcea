"""Every time the course states comes from benchmarks/results/benchmarks.json (scripts/timings.py), and every place
agrees: the chapter headers (.py and .ipynb), the index, the teaching notes, the README. Also the benchmark report's
other parts: the model targets (benchmarks/results/target_*.json), the claims count, the data path."""

from __future__ import annotations

import copy
import importlib.util
import json
import shutil
import subprocess
import sys
from pathlib import Path

import jupytext
import pytest

ROOT = Path(__file__).resolve().parents[1]
_spec = importlib.util.spec_from_file_location("benchmarks_run", ROOT / "benchmarks" / "run.py")
run = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = run
_spec.loader.exec_module(run)
timings = run.timings
MACHINE = {"cores": 2, "torch": "2.14.1", "cpu": "x", "device": "cpu"}
ENTRY = {"full": {"seconds": 234.2, "peak_mb": 1500, "machine": MACHINE},
         "smoke": {"seconds": 25.1, "peak_mb": 900, "machine": MACHINE}}


def test_every_place_agrees_with_benchmarks_json():
    problems = run.check(timings.load())
    assert not problems, "run python benchmarks/run.py --report:\n" + "\n".join(problems)


def test_format_seconds_is_the_one_format():
    assert timings.format_seconds(25.1) == "25 s" and timings.format_seconds(234.2) == "3.9 min"
    assert timings.format_seconds(119.4) == "119 s" and timings.format_seconds(120) == "2.0 min"
    for bad in (-1, float("nan"), "3", True):
        with pytest.raises(ValueError, match="seconds"):
            timings.format_seconds(bad)


def test_header_rows_get_markers_only_when_asked_and_keep_the_rest_of_the_row():
    row = "# | full (default) | all images, 6 epochs | about 4 minutes (measured: see the README) |"
    assert timings.rewrite_header_line(row, ENTRY, insert=False) == row
    marked = timings.rewrite_header_line(row, ENTRY, insert=True)
    assert marked.startswith("# | full (default) | all images, 6 epochs | <!-- runtime:full -->3.9 min")
    assert marked.endswith("<!-- /runtime --> |") and "about 4 minutes" not in marked
    assert timings.header_times(marked) == {"full": timings.header_text(ENTRY, "full")}
    assert timings.rewrite_header_line(marked, ENTRY, insert=False) == marked  # idempotent
    faster = copy.deepcopy(ENTRY)
    faster["full"]["seconds"] = 61
    assert "61 s" in timings.rewrite_header_line(marked, faster, insert=False)
    smoke = "| smoke (`COURSE_SMOKE=1`) | 2,000 images | under 45 seconds |"
    assert "25 s" in timings.rewrite_header_line(smoke, ENTRY, insert=True)
    other = "# | run | what it does | time on a 2-core laptop CPU |"
    assert timings.rewrite_header_line(other, ENTRY, insert=True) == other


def _copy_tree(tmp: Path) -> Path:
    """The files the report reads and writes, copied (the chapters' pairs, the index, the notes, README, results)."""
    for rel in ("README.md", "pyproject.toml", "benchmarks/run.py", "benchmarks/results/benchmarks.json"):
        (tmp / rel).parent.mkdir(parents=True, exist_ok=True)
        shutil.copy(ROOT / rel, tmp / rel)
    shutil.copytree(ROOT / "scripts", tmp / "scripts", ignore=shutil.ignore_patterns("__pycache__"))
    (tmp / "notebooks").mkdir()
    for path in (ROOT / "notebooks").iterdir():
        if path.suffix in (".py", ".ipynb", ".md"):
            shutil.copy(path, tmp / "notebooks" / path.name)
    return tmp


def _report(tree: Path, *args: str) -> subprocess.CompletedProcess:
    return subprocess.run([sys.executable, str(tree / "benchmarks" / "run.py"), *args], cwd=tree, capture_output=True,
                          text=True)


@pytest.mark.slow
def test_report_on_a_copy_makes_every_place_agree_and_check_catches_a_stale_one(tmp_path):
    tree = _copy_tree(tmp_path)
    assert _report(tree, "--report").returncode == 0
    result = _report(tree, "--check")
    assert result.returncode == 0, result.stdout
    chapters = sorted((tree / "notebooks").glob("0[1-9]_*.py"))
    for py in chapters:  # the header rewrite keeps every pair in sync
        assert jupytext.writes(jupytext.read(py.with_suffix(".ipynb")), fmt="py:percent") == py.read_text(), py.name
        assert set(timings.header_times(py.read_text())) == {"full", "smoke"}
    # a header edited by hand: --check names it
    py = chapters[0]
    py.write_text(py.read_text().replace("<!-- runtime:full -->", "<!-- runtime:full -->about 1 minute; ", 1))
    result = _report(tree, "--check")
    assert result.returncode == 1 and f"{py.stem}: the .py's header says" in result.stdout
    # a new measurement: every place is stale until the report runs again
    bench_path = tree / "benchmarks" / "results" / "benchmarks.json"
    bench = json.loads(bench_path.read_text())
    bench["chapters"][py.stem]["full"]["seconds"] = 61.0
    bench_path.write_text(json.dumps(bench))
    stale = _report(tree, "--check").stdout
    for place in ("header", "index", "teaching notes' time table", "README's chapter table"):
        assert place in stale, (place, stale)
    assert _report(tree, "--report").returncode == 0 and _report(tree, "--check").returncode == 0
    assert "61 s" in py.read_text() and "61 s" in (tree / "notebooks" / "00_index.py").read_text()


def test_teaching_notes_get_a_times_block_where_a_chapter_section_lacks_one():
    text = "# Notes\n\nIntro.\n\n## 01 CNNs\n\nLesson plan.\n\n## 02 RNNs\n\nPlan.\n"
    out = run._insert_times(text, "01_cnn", "TABLE\n")
    start, end = timings.times_markers("01_cnn")
    assert out.index("Lesson plan.") < out.index(start) < out.index("## 02 RNNs")
    assert timings.block(out, start, end) == "TABLE\n"
    assert run._insert_times(text, "03_lstm_gru", "TABLE\n") == text  # no such section: nothing added


TARGET = {"title": "Chapter 01: CNN test accuracy in three minutes", "command": "python benchmarks/target_cnn.py",
          "date": "2026-12-02T01:23:00Z", "machine": "2 cores (AMD EPYC), torch 2.14.1, cpu",
          "table": {"columns": ["seed", "test accuracy", "training s"], "rows": [["0", "93.12 %", "178"], ["1", "92.9 %", "177"]]},
          "targets": [{"what": "mean test accuracy over 3 seeds", "measured": "93.01 % ± 0.1", "target": ">= 93.0 %", "met": True},
                      {"what": "training time | per seed", "measured": "181 s", "target": "<= 180 s", "met": False}],
          "notes": "One paragraph."}


def test_model_targets_are_rendered_met_and_missed(tmp_path):
    (tmp_path / "target_cnn.json").write_text(json.dumps(TARGET))
    broken = dict(TARGET)
    del broken["targets"]
    (tmp_path / "target_vae.json").write_text(json.dumps(broken))
    text = run.render_targets(tmp_path)
    assert text.startswith("1 of 2 model targets met")
    assert "**Chapter 01: CNN test accuracy in three minutes**" in text
    assert "| seed | test accuracy | training s |" in text and "| 1 | 92.9 % | 177 |" in text
    assert "| mean test accuracy over 3 seeds | 93.01 % ± 0.1 | >= 93.0 % | ✓ |" in text
    assert "| training time \\| per seed | 181 s | <= 180 s | ✗ missed |" in text
    assert "`python benchmarks/target_cnn.py`" in text and "2026-12-02T01:23:00Z" in text and "One paragraph." in text
    assert "`target_vae.json` could not be rendered: \"no 'targets' key\"" in text
    assert "No model-target results yet" in run.render_targets(tmp_path / "empty")


def test_report_counts_claims_per_chapter_and_lists_failures():
    bench = {"chapters": {"01_cnn": {**ENTRY, "results": {"claims": {"checked": 12, "failed": 1, "failures": ["X beats Y"]}}},
                          "02_rnn_bptt": {**ENTRY, "results": {"claims": {"checked": 5, "failed": 0, "failures": []}}},
                          "03_lstm_gru": {**ENTRY, "results": {}}}}
    text = run.render(bench)
    rows = {line.split(" | ")[0]: line for line in text.splitlines() if line.startswith("| 0")}
    assert "| 12 checked, 1 failed ✗ |" in rows["| 01"] and "| 5 checked, 0 failed ✓ |" in rows["| 02"]
    assert "| none recorded |" in rows["| 03"]
    assert "- 01: X beats Y" in text


def test_data_path_reports_the_mlp_ratio_and_the_cnn_split():
    dp = {"n_train": 60000, "repeats": 3, "results": {
        "MLP": {"report": "ratio", "ratio": 0.18, "median_seconds": {"in-memory Batches": 1.0, "DataLoader + ToTensor": 5.7}},
        "CNN": {"report": "split", "ratio": 0.91, "median_seconds": {"in-memory Batches": 31.0, "DataLoader + ToTensor": 34.0},
                "split": {"in-memory Batches": {"data": 0.2, "compute": 30.8},
                          "DataLoader + ToTensor": {"data": 4.8, "compute": 29.2}}}}}
    lines = run.render_data_path(dp)
    mlp = next(ln for ln in lines if ln.startswith("- MLP"))
    cnn = next(ln for ln in lines if ln.startswith("- CNN"))
    assert "ratio 0.18" in mlp and "✓" in mlp
    assert "ratio" not in cnn and "data 0.20 s + compute 30.8 s" in cnn and "data 4.80 s + compute 29.2 s" in cnn
    assert "0.6% of the epoch with `Batches` and 14.1% with the `DataLoader`" in cnn
    old = {"n_train": 60000, "results": {"CNN": {"ratio": 0.91, "median_seconds": dp["results"]["CNN"]["median_seconds"]}}}
    assert "ratio 0.91" in run.render_data_path(old)[2]  # a file from before the split still renders
