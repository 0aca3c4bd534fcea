"""Every time the course states, from one source: benchmarks/results/benchmarks.json (and the chapters' own text).

Imported by benchmarks/run.py and scripts/make_index.py; it imports neither torch nor course_utils. It holds:

- ``format_seconds``: how every place writes a measured time ("25 s", "3.9 min");
- the chapter headers' runtime rows: in each chapter's first cell, the last column of the runtime table's
  ``| full ...`` and ``| smoke ...`` rows is ``<!-- runtime:full -->...<!-- /runtime -->`` (and ``smoke``), written
  from the JSON in the ``.py`` and the ``.ipynb`` alike (``write_chapter_headers``), so the pair stays in sync;
- the per-part tables of the teaching notes (``section_table``);
- the study-time estimates (``study_time``): minutes to read, to run and explore, and to do the exercises,
  counted from the chapter itself with the constants in ``STUDY``, shown by the index and the teaching notes;
- ``disagreements``: every place (chapter headers, index, teaching notes, README) checked against the JSON.
"""

from __future__ import annotations

import json
import math
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
BENCH = ROOT / "benchmarks" / "results" / "benchmarks.json"
TARGET_S = {"smoke": 45, "full": 360}
MODES = ("full", "smoke")

# ---------------------------------------------------------------- formatting


def load(path: Path = BENCH) -> dict:
    """The benchmark results (an empty dict when nothing has been measured)."""
    return json.loads(path.read_text()) if path.is_file() else {}


def format_seconds(seconds: float) -> str:
    """A measured time as every place in the course writes it: seconds below two minutes, else minutes."""
    if not isinstance(seconds, (int, float)) or isinstance(seconds, bool) or not math.isfinite(seconds) or seconds < 0:
        raise ValueError(f"seconds must be a finite number >= 0, not {seconds!r}.")
    return f"{seconds:.0f} s" if seconds < 120 else f"{seconds / 60:.1f} min"


def machine_label(m: dict) -> str:
    return f"{m['cores']} cores ({m['cpu']}), torch {m['torch']}, {m['device']}"


def time_cell(entry: dict | None, target: float) -> str:
    """One run's time for a table, with ✗ when it misses its target."""
    if not entry:
        return "not measured"
    s = entry["seconds"]
    return format_seconds(s) + ("" if s <= target else " ✗")


def chapter_entry(bench: dict, chapter: str) -> dict:
    return bench.get("chapters", {}).get(chapter, {})


def machine_of(entry: dict) -> dict | None:
    return next((entry[m]["machine"] for m in MODES if m in entry), None)


# ---------------------------------------------------------------- the chapter headers
HEADER_MARK = re.compile(r"<!-- runtime:(full|smoke) -->(.*?)<!-- /runtime -->")
# A runtime row of the header table; ``last`` is its last column, the one that gives the time.
HEADER_ROW = re.compile(r"^(?P<head>(?:# )?\|\s*(?P<mode>full|smoke)\b[^\n]*\|)(?P<last>[^|\n]*)\|\s*$")


def header_text(entry: dict, mode: str) -> str:
    """The time a chapter header states for one mode (its runtime table's last column)."""
    if mode not in MODES:
        raise ValueError(f"mode must be one of {MODES}, not {mode!r}.")
    run = entry.get(mode)
    if not run:
        return "not measured yet (run `python benchmarks/run.py`)"
    m = run["machine"]
    where = f"{m['cores']} CPU cores, torch {m['torch']}"
    if mode == "full":
        return f"{format_seconds(run['seconds'])} (measured on {where}; every chapter: the README's chapter table)"
    return f"{format_seconds(run['seconds'])} (measured on {where}; CI allows {TARGET_S['smoke']} s)"


def rewrite_header_line(line: str, entry: dict, insert: bool) -> str:
    """One line of a chapter's first cell with its runtime marker (re)written; other lines come back unchanged.

    With ``insert`` a runtime row without a marker gets one (its last column is replaced); without it only
    rows that already carry a marker change.
    """
    row = HEADER_ROW.match(line)
    if not row:
        return line
    mode, last = row.group("mode"), row.group("last")
    marked = f"<!-- runtime:{mode} -->{header_text(entry, mode)}<!-- /runtime -->"
    if HEADER_MARK.search(last):
        new_last = HEADER_MARK.sub(lambda _: marked, last)
    elif insert:
        new_last = f" {marked} "
    else:
        return line
    return row.group("head") + new_last + "|" + line[row.end("last") + 1:]


def header_times(source: str) -> dict[str, str]:
    """The runtime texts a chapter's first cell states, by mode (from its markers)."""
    return {m.group(1): m.group(2) for m in HEADER_MARK.finditer(source)}


def _first_cell_lines(py_lines: list[str]) -> range:
    """The line numbers of a percent-format .py's first cell (after its ``# %%`` line)."""
    starts = [i for i, ln in enumerate(py_lines) if ln.startswith("# %%")]
    if not starts:
        raise ValueError("no '# %%' cell marker found: not a percent-format notebook.")
    end = starts[1] if len(starts) > 1 else len(py_lines)
    return range(starts[0] + 1, end)


def write_chapter_header(py: Path, entry: dict, insert: bool = False) -> bool:
    """Rewrite the runtime markers of one chapter's first cell in its .py and its .ipynb; True if either changed.

    Only the first cell's runtime rows change, the same way in both files, so a pair in sync stays in sync and
    the .ipynb keeps every output.
    """
    import nbformat

    lines = py.read_text().split("\n")
    new = list(lines)
    for i in _first_cell_lines(lines):
        new[i] = rewrite_header_line(lines[i], entry, insert)
    changed = new != lines
    if changed:
        py.write_text("\n".join(new))
    ipynb = py.with_suffix(".ipynb")
    if ipynb.is_file():
        nb = nbformat.read(ipynb, as_version=4)
        first = nb.cells[0]
        source = "\n".join(rewrite_header_line(ln, entry, insert) for ln in first.source.split("\n"))
        if source != first.source:
            first.source = source
            nbformat.write(nb, ipynb)
            changed = True
    return changed


def write_chapter_headers(bench: dict, chapters: list[str], notebooks: Path, insert: bool = False) -> list[str]:
    """Rewrite the header runtimes of ``chapters`` (stems) from ``bench``; returns the chapters that changed."""
    changed = []
    for chapter in chapters:
        py = notebooks / f"{chapter}.py"
        if py.is_file() and write_chapter_header(py, chapter_entry(bench, chapter), insert):
            changed.append(chapter)
    return changed


# ---------------------------------------------------------------- the course index
def index_runtime(entry: dict) -> str:
    """The runtime line of one chapter in the course index."""
    if not entry:
        return "not measured yet (run `python benchmarks/run.py`)"

    def fmt(mode):
        return format_seconds(entry[mode]["seconds"]) if mode in entry else "not measured yet"

    m = machine_of(entry)
    return f"full run {fmt('full')}, smoke run {fmt('smoke')} (measured on {m['cores']} CPU cores, torch {m['torch']})"


def index_runtime_line(entry: dict) -> str:
    """The line of the course index that gives one chapter's compute time."""
    return f"**Compute time:** {index_runtime(entry)}"


# ---------------------------------------------------------------- the teaching notes' per-part tables
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
    """Markdown table of the kernel time per notebook section, full and smoke, from one chapter's results."""
    full, smoke = entry.get("full", {}).get("sections", {}), entry.get("smoke", {}).get("sections", {})
    if not full and not smoke:
        return "Not measured yet: run `python benchmarks/run.py`.\n"

    def cell(table, name):
        return f"{table[name]:.0f} s" if name in table else ""

    rows = ["| part | full run (kernel) | smoke run (kernel) |", "|---|---|---|"]
    rows += [f"| {name} | {cell(full, name)} | {cell(smoke, name)} |"
             for name in sorted(dict.fromkeys([*full, *smoke]), key=_section_order)]
    total = "| **whole notebook** | " + " | ".join(time_cell(entry.get(m), TARGET_S[m]) for m in MODES) + " |"
    machine = machine_of(entry)
    note = f"\n(kernel seconds, measured on {machine_label(machine)})\n" if machine else "\n"
    return "\n".join(rows + [total]) + "\n" + note


def replace_block(text: str, start: str, end: str, body: str) -> str:
    """``text`` with what stands between the markers ``start`` and ``end`` replaced by ``body``."""
    head, rest = text.split(start, 1)
    _, tail = rest.split(end, 1)
    return head + start + "\n" + body + end + tail


def block(text: str, start: str, end: str) -> str | None:
    """What stands between two markers (None when they are missing)."""
    if start not in text or end not in text:
        return None
    return text.split(start, 1)[1].split(end, 1)[0].removeprefix("\n")


def times_markers(chapter: str) -> tuple[str, str]:
    return f"<!-- times:{chapter}:start -->", f"<!-- times:{chapter}:end -->"


STUDY_MARKERS = ("<!-- study-time:start -->", "<!-- study-time:end -->")

# ---------------------------------------------------------------- study time (a person's, not the kernel's)
# The one place the estimates come from. Reading: technical prose with equations, read carefully; code read, not
# typed. Run and explore: the full run's compute time plus a few minutes per widget. Exercises: writing and
# checking one answer, including the written observation most of them ask for.
STUDY = {"prose_words_per_minute": 100, "code_lines_per_minute": 10, "minutes_per_widget": 5,
         "minutes_per_exercise": 25}
_LINK = re.compile(r"\]\([^)]*\)")
# A cell that shows a widget: ``widgets.show(...)``, or ``show(...)`` imported from course_utils.widgets (not
# ``plt.show()`` or ``show_source(...)``). The course index lists the sections that hold one.
WIDGET_CALL = re.compile(r"(?:^|[^\w.])(?:widgets\.)?show\(", re.M)


def study_time(py: Path, entry: dict | None = None) -> dict[str, int]:
    """Estimated minutes a learner spends on one chapter: read, run (and explore), exercises, total.

    Counted from the chapter (.py): words of its Markdown (not the rubrics), lines of its non-solution code, its
    widgets and its solution cells, with the rates in ``STUDY``; ``entry`` (the chapter's benchmark results) adds the full
    run's compute time to "run". Each part is rounded up to 5 minutes.
    """
    import jupytext

    nb = jupytext.read(py)
    words = sum(len(_LINK.sub("]", c.source).split()) for c in nb.cells
                if c.cell_type == "markdown" and "rubric" not in c.metadata.get("tags", []))  # rubrics: teachers only
    code = [c for c in nb.cells if c.cell_type == "code"]
    solutions = [c for c in code if "solution" in c.metadata.get("tags", [])]
    lines = sum(len([ln for ln in c.source.splitlines() if ln.strip()]) for c in code if c not in solutions)
    widgets = sum(bool(WIDGET_CALL.search(c.source)) for c in code)
    compute = (entry or {}).get("full", {}).get("seconds", 0) / 60

    def up5(minutes):
        return int(5 * math.ceil(minutes / 5))

    parts = {"read": up5(words / STUDY["prose_words_per_minute"] + lines / STUDY["code_lines_per_minute"]),
             "run": up5(compute + widgets * STUDY["minutes_per_widget"]),
             "exercises": up5(len(solutions) * STUDY["minutes_per_exercise"])}
    return parts | {"total": sum(parts.values())}


def format_minutes(minutes: int) -> str:
    """A person's time: "75 min", "2 h 25 min"."""
    if minutes < 90:
        return f"{minutes} min"
    hours, rest = divmod(minutes, 60)
    return f"{hours} h" + (f" {rest} min" if rest else "")


STUDY_RULE = (f"Estimated from each chapter itself: reading at {STUDY['prose_words_per_minute']} words of prose and "
              f"{STUDY['code_lines_per_minute']} lines of code a minute; running = the full run's compute time plus "
              f"{STUDY['minutes_per_widget']} minutes per widget; {STUDY['minutes_per_exercise']} minutes per exercise "
              "(each part rounded up to 5 minutes). Your own pace may well differ by half either way.")


def study_table(notebooks: Path, bench: dict) -> str:
    """Markdown table of every chapter's study time next to its compute time."""
    rows = ["| chapter | study: read | study: run and explore | study: exercises | study time in all | "
            "compute: full run | compute: smoke run |", "|---|---|---|---|---|---|---|"]
    for py in sorted(notebooks.glob("0[1-9]_*.py")):
        entry = chapter_entry(bench, py.stem)
        t = study_time(py, entry)
        runs = [format_seconds(entry[m]["seconds"]) if m in entry else "not measured" for m in MODES]
        rows.append(f"| [{py.stem[:2]}]({py.stem}.ipynb) | {t['read']} min | {t['run']} min | {t['exercises']} min | "
                    f"about {format_minutes(t['total'])} | {runs[0]} | {runs[1]} |")
    return "\n".join(rows) + "\n\n" + STUDY_RULE + "\n"


# ---------------------------------------------------------------- do all places agree?
def disagreements(root: Path, readme_table: str | None = None) -> list[str]:
    """Every place under ``root`` whose stated time differs from what benchmarks.json says (empty: all agree).

    Checks each chapter's header (.py and .ipynb), the index's runtime line, the teaching notes' per-part
    table and study-time table, and, when ``readme_table`` (the rendered README block) is given, the README.
    Each place must hold exactly what its generator writes from the JSON, and the full-run time must read the
    same in all of them.
    """
    import nbformat

    bench = load(root / "benchmarks" / "results" / "benchmarks.json")
    notebooks = root / "notebooks"
    problems = []
    index = (notebooks / "00_index.py").read_text() if (notebooks / "00_index.py").is_file() else ""
    notes_path = notebooks / "TEACHING_NOTES.md"
    notes = notes_path.read_text() if notes_path.is_file() else ""
    readme = (root / "README.md").read_text() if (root / "README.md").is_file() else ""
    for py in sorted(notebooks.glob("0[1-9]_*.py")):
        chapter, entry = py.stem, chapter_entry(bench, py.stem)
        heads = {"the .py": header_times(py.read_text().split("# %%", 2)[1])}
        if py.with_suffix(".ipynb").is_file():
            heads["the .ipynb"] = header_times(nbformat.read(py.with_suffix(".ipynb"), as_version=4).cells[0].source)
        for where, found in heads.items():
            for mode in MODES:
                want = header_text(entry, mode)
                if mode not in found:
                    problems.append(f"{chapter}: {where}'s header has no generated {mode}-run time "
                                    "(run python benchmarks/run.py --report)")
                elif found[mode] != want:
                    problems.append(f"{chapter}: {where}'s header says {found[mode]!r} for the {mode} run, "
                                    f"benchmarks.json gives {want!r}")
        line = index_runtime_line(entry)
        if line not in index:
            problems.append(f"{chapter}: the index does not say {line!r} (run python scripts/make_index.py)")
        got = block(notes, *times_markers(chapter))
        if got is None:
            problems.append(f"{chapter}: the teaching notes have no {times_markers(chapter)[0]} block")
        elif got != section_table(entry):
            problems.append(f"{chapter}: the teaching notes' time table differs from benchmarks.json")
        if "full" in entry:  # the same number, written the same way, in every place
            shown = format_seconds(entry["full"]["seconds"])
            places = {"header": heads["the .py"].get("full", ""), "index": index, "teaching notes": got or "",
                      **({"README": readme} if readme_table is not None else {})}
            problems += [f"{chapter}: the {name} does not show the full run as {shown}"
                         for name, text in places.items() if shown not in text]
    got = block(notes, *STUDY_MARKERS)
    if got is not None and got != study_table(notebooks, bench):
        problems.append("the teaching notes' study-time table differs from the chapters and benchmarks.json")
    if readme_table is not None:
        got = block(readme, "<!-- benchmarks:start -->", "<!-- benchmarks:end -->")
        if got != readme_table:
            problems.append("the README's chapter table differs from benchmarks.json (run python benchmarks/run.py --report)")
    return problems
