"""Widgets proven in a real browser: JupyterLab + headless Chromium (playwright), one chapter at a time.

For each chapter: start JupyterLab on 127.0.0.1 with a random token on a temporary copy of the notebooks,
open the chapter, clear the outputs and run every cell in smoke mode, then move every slider with the keyboard
and assert that the image (or text) it drives changes. JavaScript errors fail the test. A screenshot per
chapter and the slider-to-new-image times go to artifacts/browser/.

Skipped (with a message) when no Chromium is installed, except in CI, where `.ci/run` installs it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import subprocess
import sys
import time
from pathlib import Path

import ipywidgets
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted(p.name for p in (ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
ARTIFACTS = ROOT / "artifacts" / "browser"

if CHROMIUM is None:
    if os.environ.get("CI") == "true":
        raise RuntimeError("CI must run the browser tests: install Debian's chromium (see .ci/run).")
    pytest.skip("no Chromium installed (apt-get install chromium): browser tests skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")

pytestmark = pytest.mark.slow


def _free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


@pytest.fixture(scope="module")
def lab(tmp_path_factory):
    """A JupyterLab server on a temporary copy of the notebooks, windowing off so every cell is in the page."""
    work = tmp_path_factory.mktemp("lab")
    for nb in CHAPTERS:
        shutil.copy(ROOT / "notebooks" / nb, work / nb)
    settings = work / "_settings" / "@jupyterlab" / "notebook-extension"
    settings.mkdir(parents=True)
    (settings / "tracker.jupyterlab-settings").write_text(json.dumps({"windowingMode": "none"}))
    port, token = _free_port(), secrets.token_hex(16)
    env = dict(os.environ, COURSE_SMOKE="1", COURSE_HEADLESS="1", JUPYTERLAB_SETTINGS_DIR=str(work / "_settings"),
               JUPYTERLAB_WORKSPACES_DIR=str(work / "_workspaces"))
    cmd = [sys.executable, "-m", "jupyterlab", "--no-browser", "--ip=127.0.0.1", f"--port={port}",
           f"--IdentityProvider.token={token}", f"--ServerApp.root_dir={work}", "--LabApp.expose_app_in_browser=True"]
    if os.geteuid() == 0:
        cmd.append("--allow-root")
    log = open(work / "lab.log", "w")
    proc = subprocess.Popen(cmd, env=env, stdout=log, stderr=subprocess.STDOUT)
    deadline = time.time() + 60
    while time.time() < deadline:
        try:
            with socket.create_connection(("127.0.0.1", port), timeout=1):
                break
        except OSError:
            time.sleep(0.5)
    else:
        proc.kill()
        pytest.fail(f"JupyterLab did not start: {(work / 'lab.log').read_text()[-2000:]}")
    yield f"http://127.0.0.1:{port}", token
    proc.terminate()
    proc.wait(timeout=20)


@pytest.fixture(scope="module")
def browser():
    with sync_api.sync_playwright() as p:
        b = p.chromium.launch(executable_path=CHROMIUM, headless=True, args=[
            "--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run", "--disable-background-networking",
            "--disable-component-update", "--disable-sync"])
        yield b
        b.close()


def _run_all_cells(page, timeout_s: float) -> None:
    page.wait_for_selector(".jp-Notebook .jp-Cell", timeout=60_000)
    page.wait_for_function("() => window.jupyterapp && window.jupyterapp.shell.currentWidget &&"
                           " window.jupyterapp.shell.currentWidget.sessionContext", timeout=60_000)
    # The same commands as Edit > Clear Outputs of All Cells and Run > Run All Cells.
    page.evaluate("""async () => {
        const app = window.jupyterapp;
        const panel = app.shell.currentWidget;
        await panel.sessionContext.ready;
        while (!panel.sessionContext.session || !panel.sessionContext.session.kernel ||
               panel.sessionContext.session.kernel.connectionStatus !== 'connected') {
            await new Promise(r => setTimeout(r, 200));
        }
        await app.commands.execute('notebook:clear-all-cell-outputs');
        await app.commands.execute('notebook:run-all-cells');
    }""")
    time.sleep(1)
    deadline = time.time() + timeout_s
    while time.time() < deadline:
        prompts = page.eval_on_selector_all(".jp-CodeCell .jp-InputPrompt", "els => els.map(e => e.textContent)")
        shown = [p.strip() for p in prompts if p.strip()]  # cells with hidden input show no prompt
        if shown and not any(p in ("[*]:", "[ ]:") for p in shown):
            return
        time.sleep(1)
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    page.screenshot(path=str(ARTIFACTS / "timeout.png"))
    pytest.fail(f"the notebook did not finish running all cells in time; prompts: {sorted(set(prompts))[:10]}")


def _image_of(slider):
    """The image (or caption) a slider drives: the first <img> in the widget box that holds the slider."""
    return slider.evaluate_handle(
        "el => { let box = el.closest('.widget-vbox') || el.closest('.jp-OutputArea-output');"
        " return box.querySelector('img'); }").as_element()


@pytest.mark.parametrize("chapter", CHAPTERS)
def test_widgets_respond_in_the_browser(lab, browser, chapter):
    url, token = lab
    page = browser.new_page(viewport={"width": 1400, "height": 1000})
    js_errors = []
    page.on("pageerror", lambda err: js_errors.append(str(err)))
    # A workspace of its own per chapter (reset), so no tab of an earlier chapter is restored beside it.
    page.goto(f"{url}/lab/workspaces/{Path(chapter).stem}/tree/{chapter}?token={token}&reset")
    _run_all_cells(page, timeout_s=float(os.environ.get('BROWSER_TIMEOUT', 240)))
    errors = page.eval_on_selector_all(".jp-OutputArea-output[data-mime-type='application/vnd.jupyter.stderr']",
                                       "els => els.map(e => e.textContent).filter(t => t.includes('Error'))")
    assert not errors, f"cells raised errors: {errors[:2]}"
    # ipywidgets 8 draws sliders with noUiSlider, ipywidgets 7 (Colab's) with jQuery UI.
    sliders = page.query_selector_all(".jupyter-widgets.widget-slider .noUi-handle, .widget-slider .noUi-handle, "
                                      ".widget-slider .ui-slider-handle")
    assert sliders, f"{chapter}: no slider widgets were rendered"
    timings = []
    for handle in sliders:
        img = _image_of(handle)
        if img is None:
            continue
        before = img.get_attribute("src")
        handle.scroll_into_view_if_needed()
        handle.focus()
        start = time.perf_counter()
        handle.press("ArrowRight")
        page.wait_for_function("([img, before]) => img.getAttribute('src') !== before", arg=[img, before], timeout=10_000)
        timings.append(1000 * (time.perf_counter() - start))
    assert timings, f"{chapter}: no slider drives an image"
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    sliders[0].scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"{Path(chapter).stem}.png"))
    (ARTIFACTS / f"{Path(chapter).stem}_slider_ms.json").write_text(json.dumps(
        {"chapter": chapter, "sliders_moved": len(timings), "slider_to_image_ms": timings}, indent=2))
    if int(ipywidgets.__version__.split(".")[0]) < 8:
        # ipywidgets 7's JupyterLab manager typesets widget labels with MathJax 2 (`MathJax.Hub.Queue`), which
        # JupyterLab 4 (MathJax 3) does not have; the label shows untypeset and nothing else breaks.
        js_errors = [e for e in js_errors if "reading 'Queue'" not in e]
    assert not js_errors, f"JavaScript errors: {js_errors[:3]}"
    page.close()
