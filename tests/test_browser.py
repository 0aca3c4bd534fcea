"""Widgets proven in a real browser: JupyterLab + headless Chromium (playwright), one chapter at a time.

For each chapter: start JupyterLab on 127.0.0.1 with a random token on a temporary copy of the notebooks,
open the chapter, clear the outputs and run every cell in smoke mode, then drive every control on the page —
sliders (keyboard), dropdowns, toggle buttons, check boxes, text boxes, play buttons and plain buttons — and
assert that the image (or, where a view has none, the text) it drives changes. Kernel-free views (the default on
ipywidgets 8) show their frames in a Stack; the test finds the visible image again after every move, so the same
assertions hold for them and for the kernel swap (``COURSE_PRECOMPUTE=0``, and ipywidgets 7). JavaScript errors
fail the test. A screenshot per chapter and the input-to-new-image times (per control; the median of three key
presses per slider) go to artifacts/browser/ (``NN_x_slider_ms.json``; ``NN_x_kernel_swap_slider_ms.json`` under
``COURSE_PRECOMPUTE=0``).

Skipped (with a message) when no Chromium is installed, except in CI, where `.ci/run` installs it.
"""

from __future__ import annotations

import json
import os
import secrets
import shutil
import socket
import statistics
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


# Every kind of control the course's views use, as ipywidgets 8 (and 7, Colab's major version) draws it.
CONTROLS = {
    "slider": ".widget-slider .noUi-handle, .widget-slider .ui-slider-handle",
    "dropdown": ".widget-dropdown select",
    "toggle": ".widget-toggle-buttons",
    "checkbox": ".widget-checkbox input[type='checkbox']",
    "text": ".widget-text input[type='text']",
    "play": ".widget-play",
    "button": "button.jupyter-button:not(.widget-toggle-buttons button):not(.widget-play button)",
}
SLIDER_PRESSES = 3  # key presses per slider, each to a value not shown yet where there is room; the median is kept

# In the page: the output a control drives. Its box is the nearest enclosing element (inside the cell's output)
# that holds an image, else the nearest widget box with text (a caption). What counts is what is *visible*: a
# kernel-free view (the default) shows its frames in a Stack, which renders the selected frame as a new
# <img> and drops the old one, so the image is found again on every look.
BOX_OF = """el => {
    const out = el.closest('.jp-OutputArea-output') || document.body;
    for (let box = el.parentElement; box && out.contains(box); box = box.parentElement) {
        if ([...box.querySelectorAll('img')].some(i => !el.contains(i))) return box;
    }
    return el.closest('.widget-vbox') || null;
}"""
# Arm a timer that starts at the first input event and stops when the box shows another image (a new src, on the
# same element or another one), loaded; or, in a box without an image, other text. Returns what it shows now.
ARM = """box => {
    const img = () => [...box.querySelectorAll('img')].find(i => i.checkVisibility());
    const text = () => [...box.querySelectorAll('.widget-html, .widget-label, .widget-html-content')]
        .filter(e => e.checkVisibility()).map(e => e.textContent).join('|');
    const first = img();
    const before = first ? first.src : text();
    window.__t0 = null; window.__t1 = null;
    const start = () => { if (window.__t0 === null) window.__t0 = performance.now(); };
    for (const ev of ['keydown', 'pointerdown', 'change', 'input']) document.addEventListener(ev, start, {capture: true, once: true});
    const done = () => { if (window.__t1 === null) { window.__t1 = performance.now(); observer.disconnect(); } };
    const check = () => {
        if (window.__t0 === null || window.__t1 !== null) return;
        if (!first) { if (text() !== before) done(); return; }
        const now = img();
        if (!now || now.src === before) return;
        if (now.complete && now.naturalWidth > 0) done(); else now.addEventListener('load', done, {once: true});
    };
    // Mutation callbacks run right after the DOM change (a microtask), so the time is not rounded to a frame.
    const observer = new MutationObserver(check);
    observer.observe(box, {attributes: true, childList: true, subtree: true, characterData: true});
    return first ? 'image' : 'text';
}"""


def _describe(control) -> str:
    """A control's label (its description, a button's text; "play" for a play widget), for messages and times."""
    return control.evaluate(
        """el => {
            if (el.classList.contains('widget-play')) return 'play';
            for (let a = el; a && !a.matches('.widget-hbox, .widget-vbox, .jp-OutputArea-output'); a = a.parentElement) {
                const label = a.querySelector(':scope > .widget-label');
                if (label && label.textContent.trim()) return label.textContent.trim();
            }
            return el.textContent.trim() || el.outerHTML.slice(0, 120);
        }""")


def _act(page, control, kind: str, press: int) -> None:
    """One move of ``control``: every move asks for a setting the control does not show now."""
    if kind == "slider":
        control.scroll_into_view_if_needed()
        control.focus()
        now, top = control.get_attribute("aria-valuenow"), control.get_attribute("aria-valuemax")
        at_max = now is not None and top is not None and float(now) >= float(top)
        control.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind == "dropdown":
        current = control.evaluate("s => s.selectedIndex")
        n = control.evaluate("s => s.options.length")
        control.select_option(index=(current + 1) % n)
    elif kind == "toggle":  # press a button that is not pressed
        button = control.locator("button:not(.mod-active)").first
        button.scroll_into_view_if_needed()
        button.click()
    elif kind == "checkbox":
        control.scroll_into_view_if_needed()
        control.click()
    elif kind == "text":  # typed first; the value goes to the kernel on Enter (continuous_update=False)
        control.fill(control.input_value().rstrip() + (" and then " if press % 2 == 0 else " so "))
    elif kind == "play":  # the first of its buttons starts the animation
        button = control.locator("button").first
        button.scroll_into_view_if_needed()
        button.click()
    else:  # a button with a kernel callback
        control.scroll_into_view_if_needed()
        control.click()


def _settle(page) -> None:
    """Wait until the kernel is idle (the updates of the last move have all arrived), so a move is timed alone."""
    page.wait_for_function("() => { const s = window.jupyterapp.shell.currentWidget.sessionContext.session;"
                           " return s && s.kernel && s.kernel.status === 'idle'; }", timeout=30_000)
    page.wait_for_timeout(50)


def _drive(page, control, kind: str, press: int = 0) -> float:
    """Move ``control`` once and wait until its output changes; returns milliseconds from the input to the new
    image (or text). Fails the test when the output does not change within 10 s."""
    _settle(page)
    box = control.evaluate_handle(BOX_OF).as_element()
    if box is None:
        raise AssertionError(f"the {kind} {_describe(control)!r} drives no image or text the test can find")
    if kind == "text":
        _act(page, control, kind, press)  # the typing itself changes nothing yet
    shows = box.evaluate(ARM)
    if kind == "text":
        control.press("Enter")
    else:
        _act(page, control, kind, press)
    try:
        page.wait_for_function("() => window.__t1 !== null", timeout=10_000)
    except sync_api.TimeoutError:
        raise AssertionError(f"{kind} {_describe(control)!r}: moving it did not change the {shows} it drives "
                             "within 10 s") from None
    finally:
        if kind == "play":  # pause the animation (its second button), so it moves nothing while others are tested
            control.locator("button").nth(1).click()
            page.wait_for_timeout(1_000)  # a step already sent to the kernel lands before the next control
    return page.evaluate("() => window.__t1 - window.__t0")


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
    controls = [(kind, c) for kind, selector in CONTROLS.items() for c in page.locator(selector).all()]
    kinds = {kind for kind, _ in controls}
    assert "slider" in kinds, f"{chapter}: no slider widgets were rendered"
    # Every control of every kind, in page order; each must change what it drives.
    controls.sort(key=lambda kc: kc[1].evaluate("el => el.getBoundingClientRect().top + window.scrollY"))
    moved, sliders = [], []
    for kind, control in controls:
        label = _describe(control)
        runs = [_drive(page, control, kind, press) for press in range(SLIDER_PRESSES if kind == "slider" else 1)]
        moved.append({"kind": kind, "label": label, "ms": [round(r, 1) for r in runs],
                      "median_ms": round(statistics.median(runs), 1)})
        if kind == "slider":
            sliders.append(statistics.median(runs))
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    stem = Path(chapter).stem + ("_kernel_swap" if os.environ.get("COURSE_PRECOMPUTE") == "0" else "")
    controls[0][1].scroll_into_view_if_needed()
    page.screenshot(path=str(ARTIFACTS / f"{stem}.png"))
    (ARTIFACTS / f"{stem}_slider_ms.json").write_text(json.dumps(
        {"chapter": chapter, "precompute": os.environ.get("COURSE_PRECOMPUTE", ""), "sliders_moved": len(sliders),
         "slider_to_image_ms": [round(s, 1) for s in sliders], "controls": moved}, indent=2))
    print(f"{chapter}: " + "; ".join(f"{m['kind']} {m['label']} {m['median_ms']:.0f} ms" for m in moved))
    if int(ipywidgets.__version__.split(".")[0]) < 8:
        # ipywidgets 7's JupyterLab manager typesets widget labels with MathJax 2 (`MathJax.Hub.Queue`), which
        # JupyterLab 4 (MathJax 3) does not have; the label shows untypeset and nothing else breaks.
        js_errors = [e for e in js_errors if "reading 'Queue'" not in e]
    assert not js_errors, f"JavaScript errors: {js_errors[:3]}"
    page.close()
