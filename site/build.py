"""Build the course website: execute the notebooks with widget state stored, then a static Sphinx + MyST-NB site.

    .venv/bin/python site/build.py --mode smoke --output build/site      # what CI builds (make site-smoke)
    .venv/bin/python site/build.py --mode full --output build/site       # for publishing (make site)

Run it with the course's ``.venv`` once ``make site-env`` has added ``site/requirements.txt`` to it (the notebooks
run in kernels of this same Python, so the site needs the course's torch; see the Makefile). Steps:

1. vendor the browser code from npm (``site/vendor.py``: html-manager, requirejs, MathJax), so no page loads
   anything from a CDN;
2. copy ``notebooks/00_index.ipynb``, the six chapters and ``notebooks/TEACHING_NOTES.md`` into
   ``<output>-src/``, and write the landing page (``site/templates/landing.md``) with the chapter table and its
   runtimes from ``benchmarks/results/benchmarks.json``;
3. execute each notebook there in a fresh kernel (smoke: ``COURSE_SMOKE=1``; full: full mode) with
   ``COURSE_PRECOMPUTE=1`` and ``COURSE_SITE=1``, so views whose controls can be linked in the browser
   precompute their frames (``course_utils.widgets.kernel_free``), the others say which controls need a live
   kernel (``course_utils.widgets.on_site``), and the widget state is stored in the copy. The executions hold
   ``/tmp/torch.lock`` (the course's one-torch-process-at-a-time rule) once, for as long as they run. The committed
   ``.ipynb`` are never written: the clean copies the pages offer for download come from ``notebooks/``;
4. add to each chapter page a Colab link and a download of the clean notebook, replace the Colab badge images
   (an outside image) by text links, and run ``sphinx-build``;
5. print each page's weight (HTML + the images it loads) and write it to ``<output>/page_sizes.json``.
"""

from __future__ import annotations

import argparse
import fcntl
import json
import os
import re
import shutil
import string
import subprocess
import sys
import time
from contextlib import contextmanager
from pathlib import Path

HERE = Path(__file__).resolve().parent
ROOT = HERE.parent
sys.path.insert(0, str(HERE))
import vendor  # noqa: E402  (site/vendor.py, beside this file)

NOTEBOOKS = ROOT / "notebooks"
LOCK = Path("/tmp/torch.lock")
BADGE = re.compile(r"\[!\[Open In Colab\]\([^)]*colab-badge\.svg\)\]\(([^)]+)\)")
PAGE_LIMIT_MB = 15


def chapters() -> list[str]:
    return sorted(p.stem for p in NOTEBOOKS.glob("0[1-9]_*.ipynb"))


@contextmanager
def torch_lock():
    """Hold the course's torch lock (the same file the ``flock`` command uses) while a notebook runs."""
    with open(LOCK, "a") as fh:
        fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def colab_url(stem: str) -> str:
    """The Colab link of a notebook, built as scripts/update_setup_cells.py builds the notebooks' own badges (the
    repository address from pyproject.toml)."""
    import tomllib

    url = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]["urls"]["Repository"]
    return f"https://colab.research.google.com/github/{url.removeprefix('https://github.com/')}/blob/main/notebooks/{stem}.ipynb"


def title_of(nb) -> str:
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = re.search(r"^#\s+(.+)$", cell.source, flags=re.M)
            if m:
                return m.group(1).strip()
    return "untitled"


def execute(nb_path: Path, smoke: bool, timeout: int) -> float:
    """Run the notebook at ``nb_path`` in place (a copy), storing widget state; returns the seconds it took."""
    import nbformat
    from nbclient import NotebookClient

    nb = nbformat.read(nb_path, as_version=4)
    env = {"COURSE_SMOKE": "1" if smoke else "0", "COURSE_HEADLESS": "1", "COURSE_PRECOMPUTE": "1", "COURSE_SITE": "1"}
    saved = {k: os.environ.get(k) for k in env}
    os.environ.update(env)  # the kernel inherits the environment of this process
    try:
        start = time.perf_counter()
        NotebookClient(nb, timeout=timeout, kernel_name="python3", store_widget_state=True,
                       resources={"metadata": {"path": str(nb_path.parent)}}).execute()
        return time.perf_counter() - start
    finally:
        for k, v in saved.items():
            if v is None:
                os.environ.pop(k, None)
            else:
                os.environ[k] = v
        nbformat.write(nb, nb_path)  # after a failure too: the page then shows the outputs up to the error


def dress_page(nb_path: Path, stem: str, chapter: bool) -> None:
    """Colab badges become text links; a chapter's badge (under its title) becomes its run links: Colab, the
    download of the clean notebook, ``make lab``."""
    import nbformat

    nb = nbformat.read(nb_path, as_version=4)
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            cell.source = BADGE.sub(lambda m: f"[Open in Colab]({m.group(1)})", cell.source)
    if chapter:
        links = (f"<div class=\"course-run-links\">\n\n**Run this chapter:** [open it in Colab]({colab_url(stem)}) · "
                 f"{{download}}`download the notebook <_notebooks/{stem}.ipynb>` · or locally with `make lab`. "
                 "The widgets on this page that need a live kernel say so; the others work here.\n\n</div>\n")
        first = next(c for c in nb.cells if c.cell_type == "markdown")
        text = first.source
        colab = f"[Open in Colab]({colab_url(stem)})"
        if colab in text:
            first.source = text.replace(colab, links, 1)
        else:  # no badge: right under the title
            title_end = text.find("\n") if text.startswith("#") else -1
            first.source = links + "\n" + text if title_end < 0 else text[:title_end + 1] + "\n" + links + text[title_end:]
    nbformat.write(nb, nb_path)


def chapter_table(stems: list[str], titles: dict[str, str]) -> tuple[str, str, str]:
    bench_path = ROOT / "benchmarks" / "results" / "benchmarks.json"
    bench = json.loads(bench_path.read_text()).get("chapters", {}) if bench_path.is_file() else {}
    rows = ["| chapter | full run | smoke run |", "|---|---|---|"]
    machines, dates = set(), set()
    for stem in stems:
        entry = bench.get(stem, {})
        full, smoke = entry.get("full", {}), entry.get("smoke", {})
        cell_full = f"{full['seconds'] / 60:.1f} min" if "seconds" in full else "not measured"
        cell_smoke = f"{smoke['seconds']:.0f} s" if "seconds" in smoke else "not measured"
        rows.append(f"| [{titles[stem]}]({stem}.ipynb) | {cell_full} | {cell_smoke} |")
        for run in (full, smoke):
            if "machine" in run:
                m = run["machine"]
                machines.add(f"{m.get('cores', '?')} cores, {m.get('cpu', '?')}, torch {m.get('torch', '?')}")
            if "measured" in run:
                dates.add(run["measured"][:10])
    return ("\n".join(rows), "; ".join(sorted(machines)) or "not measured",
            ", ".join(sorted(dates)) or "no date")


def prepare(src: Path, vendor_dir: Path, stems: list[str], mode: str) -> dict[str, str]:
    import nbformat

    shutil.rmtree(src, ignore_errors=True)
    (src / "_static").mkdir(parents=True)
    (src / "_notebooks").mkdir()
    shutil.copy(HERE / "conf.py", src / "conf.py")
    for name in ("course.css", "favicon.svg", "mathjax_hub_shim.js", "widgets_paths.js"):
        shutil.copy(HERE / "templates" / name, src / "_static" / name)
    shutil.copytree(vendor_dir, src / "_static" / "vendor")
    titles = {}
    for stem in ["00_index", *stems]:
        shutil.copy(NOTEBOOKS / f"{stem}.ipynb", src / f"{stem}.ipynb")
        shutil.copy(NOTEBOOKS / f"{stem}.ipynb", src / "_notebooks" / f"{stem}.ipynb")  # the clean download
        titles[stem] = title_of(nbformat.read(src / f"{stem}.ipynb", as_version=4))
    notes = (NOTEBOOKS / "TEACHING_NOTES.md").read_text()
    (src / "TEACHING_NOTES.md").write_text(BADGE.sub(lambda m: f"[Open in Colab]({m.group(1)})", notes))
    table, machine, measured = chapter_table(stems, titles)
    landing = string.Template((HERE / "templates" / "landing.md").read_text()).substitute(
        chapter_table=table, machine=machine, measured=measured, chapter_docs="\n".join(stems),
        mode_note=" in smoke mode (small data, short training: CI's build)" if mode == "smoke" else "")
    (src / "index.md").write_text(landing)
    return titles


def page_sizes(out: Path) -> dict[str, dict]:
    """Each page's weight: its HTML (with the embedded widget state) plus every local image it loads."""
    sizes = {}
    for html in sorted(out.glob("*.html")):
        text = html.read_text(errors="replace")
        images = set(re.findall(r"<img[^>]+src=\"([^\"]+)\"", text))
        img_bytes = sum((out / s).stat().st_size for s in images if (out / s).is_file())
        state = re.search(r'<script type="application/vnd.jupyter.widget-state\+json">(.*?)</script>', text, re.S)
        sizes[html.stem] = {"html_mb": round(html.stat().st_size / 1e6, 2), "images_mb": round(img_bytes / 1e6, 2),
                            "widget_state_mb": round(len(state.group(1)) / 1e6, 2) if state else 0.0,
                            "total_mb": round((html.stat().st_size + img_bytes) / 1e6, 2)}
    return sizes


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--mode", choices=["smoke", "full"], required=True)
    parser.add_argument("--output", type=Path, default=ROOT / "build" / "site")
    parser.add_argument("--chapters", nargs="*", help="chapter prefixes to include (e.g. 05); default: all six")
    parser.add_argument("--vendor-dir", type=Path, default=ROOT / "build" / "site-vendor")
    parser.add_argument("--timeout", type=int, default=1800, help="seconds allowed per cell")
    parser.add_argument("--no-execute", action="store_true",
                        help="render the committed outputs (no widget state, so no live widgets): for layout work")
    parser.add_argument("--reuse", action="store_true",
                        help="reuse notebooks this script executed before (in <output>-executed/<mode>/) when they are "
                             "newer than the committed .ipynb: for work on the pages, not for publishing")
    args = parser.parse_args(argv)
    stems = chapters()
    if args.chapters:
        stems = [s for s in stems if any(s.startswith(c) for c in args.chapters)]
        if not stems:
            parser.error(f"--chapters {args.chapters} matches none of {chapters()}")
    out = args.output.resolve()
    src = out.with_name(out.name + "-src")
    vendor_dir = vendor.vendor(args.vendor_dir.resolve())
    prepare(src, vendor_dir, stems, args.mode)
    times = {}
    executed = out.with_name(out.name + "-executed") / args.mode  # kept, so --reuse can skip the kernels
    todo, failed = [], {}
    for stem in ["00_index", *stems]:
        cached = executed / f"{stem}.ipynb"
        if args.reuse and cached.is_file() and cached.stat().st_mtime > (NOTEBOOKS / f"{stem}.ipynb").stat().st_mtime:
            shutil.copy(cached, src / f"{stem}.ipynb")
            print(f"{stem}: reusing {cached}", flush=True)
        elif not args.no_execute:
            todo.append(stem)
    if todo:
        print(f"waiting for {LOCK} to execute {len(todo)} notebooks ({args.mode} mode)", flush=True)
        with torch_lock():  # one hold for all the kernels, released before Sphinx runs
            for stem in todo:
                try:
                    times[stem] = execute(src / f"{stem}.ipynb", args.mode == "smoke", args.timeout)
                except Exception as err:  # the other chapters still run; the build fails at the end
                    failed[stem] = str(err).strip().splitlines()[-1][:300]
                    print(f"{stem}: FAILED ({args.mode}): {failed[stem]}", flush=True)
                    continue
                print(f"{stem}: executed ({args.mode}) in {times[stem]:.1f} s", flush=True)
                executed.mkdir(parents=True, exist_ok=True)
                shutil.copy(src / f"{stem}.ipynb", executed / f"{stem}.ipynb")
    for stem in ["00_index", *stems]:
        dress_page(src / f"{stem}.ipynb", stem, chapter=stem != "00_index")
    shutil.rmtree(out, ignore_errors=True)
    env = dict(os.environ, COURSE_SITE_MODE=args.mode)
    subprocess.run([sys.executable, "-m", "sphinx", "-b", "html", "-q", "-j", "1", str(src), str(out)], check=True,
                   env=env)
    (out / ".nojekyll").touch()
    sizes = page_sizes(out)
    (out / "page_sizes.json").write_text(json.dumps({"mode": args.mode, "execute_s": times, "failed": failed,
                                                     "pages": sizes}, indent=2) + "\n")
    for name, s in sizes.items():
        flag = "  OVER the ~15 MB budget" if s["total_mb"] > PAGE_LIMIT_MB else ""
        print(f"{name}: {s['total_mb']:.2f} MB (html {s['html_mb']:.2f}, of it widget state "
              f"{s['widget_state_mb']:.2f}; images {s['images_mb']:.2f}){flag}")
    print(f"site built in {out}")
    if failed:
        print(f"{len(failed)} notebook(s) failed to execute (their pages show the error): {', '.join(failed)}")
        return 1
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
