"""The course website (``site/build.py``), proven in headless Chromium with no kernel anywhere.

The built site (``build/site``, or ``$COURSE_SITE_DIR``) is served on 127.0.0.1 by a static file server. For each
page: it loads with no JavaScript error, no failed request and no request that leaves 127.0.0.1 (nothing from a
CDN); every image loads; every internal link (and its #anchor) resolves; math renders (MathJax, no error); every
widget view renders; and in every kernel-free widget (``course_utils.widgets``, class ``course-kernel-free``) each
control (slider, dropdown, toggle buttons) changes the image shown, except the controls of a partly linked view that
move its frames through the kernel (class ``course-kernel-driven``), which its note must name. The key-to-image times are written to
``artifacts/site/widget_ms.json`` (a benchmark number, not asserted) with a screenshot of each page.

Skipped with a reason when the site is not built or no Chromium is installed, except when
``COURSE_REQUIRE_SITE=1`` (``make site-test``, which CI runs after ``make site-smoke``), where both are required.
``python benchmarks/run.py`` reports the slider times from ``widget_ms.json`` (its site leg).
"""

from __future__ import annotations

import functools
import http.server
import json
import os
import shutil
import statistics
import threading
import urllib.parse
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
SITE = Path(os.environ.get("COURSE_SITE_DIR", ROOT / "build" / "site"))
ARTIFACTS = ROOT / "artifacts" / "site"
CHROMIUM = shutil.which("chromium") or ("/usr/bin/chromium" if Path("/usr/bin/chromium").exists() else None)
IN_CI = os.environ.get("COURSE_REQUIRE_SITE") == "1"

if not (SITE / "index.html").is_file():
    if IN_CI:
        raise RuntimeError(f"COURSE_REQUIRE_SITE=1, but {SITE} has no index.html: run `make site-smoke` first.")
    pytest.skip(f"the site is not built ({SITE}/index.html missing; `make site-smoke` builds it)",
                allow_module_level=True)
if CHROMIUM is None:
    if IN_CI:
        raise RuntimeError("COURSE_REQUIRE_SITE=1 needs Chromium for the site's browser test: install Debian's chromium (see .ci/run).")
    pytest.skip("no Chromium installed (apt-get install chromium): site browser test skipped", allow_module_level=True)
sync_api = pytest.importorskip("playwright.sync_api")
from tests import test_browser as lab_test  # noqa: E402

browser = lab_test.browser  # the same headless Chromium (Debian's, driven by playwright) as the JupyterLab test

pytestmark = pytest.mark.slow
PAGES = sorted(p.name for p in SITE.glob("*.html"))
TIMES: dict[str, dict[str, float]] = {}
REPEATS = 5  # key presses per slider; the median is recorded


class _Quiet(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(SITE)))
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}"
    httpd.shutdown()
    httpd.server_close()
    ARTIFACTS.mkdir(parents=True, exist_ok=True)
    summary = {page: {"controls_ms": t, "median_ms": round(statistics.median(t.values()), 1) if t else None}
               for page, t in TIMES.items()}
    (ARTIFACTS / "widget_ms.json").write_text(json.dumps(summary, indent=2) + "\n")


def _open(browser, server, name):
    """Open a page, refusing (and recording) every request that would leave 127.0.0.1."""
    page = browser.new_page(viewport={"width": 1300, "height": 900})
    problems = {"js": [], "failed": [], "outside": []}
    page.on("pageerror", lambda err: problems["js"].append(str(err)))
    page.on("console", lambda msg: problems["js"].append(msg.text) if msg.type == "error" else None)
    page.on("requestfailed", lambda req: problems["failed"].append(f"{req.url} ({req.failure})"))
    page.on("response", lambda r: problems["failed"].append(f"{r.url} (HTTP {r.status})") if r.status >= 400 else None)

    def route(r):
        if r.request.url.startswith(server):
            r.continue_()
        else:
            problems["outside"].append(r.request.url)
            r.abort()

    page.route("**/*", route)
    page.goto(f"{server}/{name}", wait_until="load")
    page.wait_for_load_state("networkidle")
    return page, problems


def _wait_for_widgets(page) -> int:
    """Wait until the html-manager has rendered every embedded widget view; returns how many there are."""
    n = page.locator('script[type="application/vnd.jupyter.widget-view+json"]').count()
    if n:
        page.wait_for_function(
            """() => [...document.querySelectorAll('script[type="application/vnd.jupyter.widget-view+json"]')]
                     .every(s => s.parentElement.querySelector('.jupyter-widgets, .widget-box, .widget-image'))""",
            timeout=60_000)
    return n


def _wait_for_math(page) -> int:
    n = page.locator(".math").count()
    if n:
        page.wait_for_function("() => window.MathJax && MathJax.startup && MathJax.startup.promise", timeout=30_000)
        page.evaluate("() => MathJax.startup.promise")
        page.wait_for_function(f"() => document.querySelectorAll('mjx-container').length >= {n}", timeout=30_000)
    return n


# In the page: arm a timer that starts at the first input event and stops when the box shows another image.
ARM = """box => {
    const shown = () => [...box.querySelectorAll('img')].find(i => i.checkVisibility());
    const before = shown();
    window.__t0 = null; window.__t1 = null;
    const start = () => { if (window.__t0 === null) window.__t0 = performance.now(); };
    for (const ev of ['keydown', 'pointerdown', 'change', 'input']) document.addEventListener(ev, start, {capture: true, once: true});
    const done = () => { if (window.__t1 === null) { window.__t1 = performance.now(); observer.disconnect(); } };
    const check = () => {
        const now = shown();
        if (window.__t0 === null || !now || now === before || window.__t1 !== null) return;
        if (now.complete && now.naturalWidth > 0) done(); else now.addEventListener('load', done, {once: true});
    };
    // The Stack renders the newly selected frame as a new <img>; the time stops when that image has loaded.
    // Mutation callbacks run right after the DOM change (a microtask), so the time is not rounded to a frame.
    const observer = new MutationObserver(check);
    observer.observe(box, {attributes: true, childList: true, subtree: true});
    return before ? before.src : null;
}"""


def _drive(page, box, control, kind: str) -> float:
    box.evaluate(ARM)
    if kind == "slider":
        control.scroll_into_view_if_needed()
        control.focus()
        at_max = control.get_attribute("aria-valuenow") == control.get_attribute("aria-valuemax")
        control.press("ArrowLeft" if at_max else "ArrowRight")
    elif kind == "dropdown":
        options = control.evaluate("s => [...s.options].map(o => o.index)")
        current = control.evaluate("s => s.selectedIndex")
        control.select_option(index=next(i for i in options if i != current))
    else:  # toggle buttons: press one that is not pressed
        button = control.locator("button:not(.mod-active)").first
        button.scroll_into_view_if_needed()
        button.click()
    try:
        page.wait_for_function("() => window.__t1 !== null", timeout=5_000)
    except sync_api.TimeoutError:
        raise AssertionError(f"moving the {kind} {control.evaluate('el => el.outerHTML.slice(0, 200)')} did not "
                             "change the widget's image within 5 s") from None
    return page.evaluate("() => window.__t1 - window.__t0")


def _internal_links(page, server) -> list[str]:
    hrefs = page.eval_on_selector_all("a[href]", "els => els.map(a => a.href)")
    return sorted({h for h in hrefs if h.startswith(server)})


@pytest.mark.parametrize("name", PAGES)
def test_page_works_without_a_kernel(browser, server, name):
    page, problems = _open(browser, server, name)
    try:
        n_views = _wait_for_widgets(page)
        n_math = _wait_for_math(page)
        assert not page.locator("mjx-merror").count(), "MathJax could not render some math"
        broken = page.eval_on_selector_all("img", "els => els.filter(i => !(i.complete && i.naturalWidth > 0))"
                                                  ".map(i => i.src.slice(0, 80))")
        assert not broken, f"{name}: images that did not load: {broken[:5]}"
        for link in _internal_links(page, server):
            url, _, anchor = link.partition("#")
            response = page.request.get(url)
            assert response.ok, f"{name}: the link {link} gives HTTP {response.status}"
            if anchor and url.endswith(".html"):
                ids = page.evaluate("a => document.getElementById(a) !== null", urllib.parse.unquote(anchor)) \
                    if url == page.url.partition("#")[0] else f'id="{urllib.parse.unquote(anchor)}"' in response.text()
                assert ids, f"{name}: the link {link} points at an anchor the page does not have"
        times = {}
        boxes = page.locator(".course-kernel-free")
        for b in range(boxes.count()):
            box = boxes.nth(b)
            controls = ([("slider", h) for h in box.locator(".noUi-handle").all()] +
                        [("dropdown", s) for s in box.locator("select").all()] +
                        [("toggle", t) for t in box.locator(".widget-toggle-buttons").all()])
            # a partly linked view: the controls that move its frames through the kernel are named in its note
            live = [c for c in controls if c[1].evaluate("el => !!el.closest('.course-kernel-driven')")]
            if live:
                note = box.locator(".course-needs-kernel")
                assert note.count() and "need a live kernel" in note.first.text_content(), \
                    f"{name}: kernel-free widget {b} has controls that need a kernel and no note naming them"
            controls = [c for c in controls if c not in live]
            assert controls, f"{name}: kernel-free widget {b} has no control the test can drive"
            for c, (kind, control) in enumerate(controls):
                label = control.evaluate("el => el.closest('.widget-slider, .widget-dropdown, .widget-toggle-buttons')"
                                         "?.querySelector('.widget-label')?.textContent || ''")
                runs = [_drive(page, box, control, kind) for _ in range(REPEATS if kind == "slider" else 2)]
                times[f"widget {b} · {kind} {c} {label}".strip()] = round(statistics.median(runs), 1)
        TIMES[name] = times
        ARTIFACTS.mkdir(parents=True, exist_ok=True)
        page.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}.png"))
        if boxes.count():
            boxes.first.scroll_into_view_if_needed()
            boxes.first.screenshot(path=str(ARTIFACTS / f"{Path(name).stem}_widget.png"))
        print(f"{name}: {n_views} widget views, {n_math} math, {boxes.count()} kernel-free, times {times}")
        assert not problems["outside"], f"{name}: requests left 127.0.0.1 (a CDN?): {problems['outside'][:5]}"
        assert not problems["failed"], f"{name}: failed requests: {problems['failed'][:5]}"
        assert not problems["js"], f"{name}: JavaScript errors: {problems['js'][:5]}"
    finally:
        page.close()
