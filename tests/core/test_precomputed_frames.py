"""Kernel-free views (the default on ipywidgets 8): controls linked in the browser to a Stack of precomputed frames.

The frames must be exactly what the kernel-side render shows for the same setting, the Stack's children must sit
at the index the browser link selects, a view that cannot be linked says so only on the website (COURSE_SITE=1),
``COURSE_PRECOMPUTE=0`` and ipywidgets 7 (no Stack, as on Colab) give the kernel-driven view.
"""

from __future__ import annotations

import ipywidgets
import matplotlib

matplotlib.use("agg")
import matplotlib.pyplot as plt
import pytest

from course_utils import widgets

HAS_STACK = hasattr(ipywidgets, "Stack")
needs_stack = pytest.mark.skipif(not HAS_STACK, reason="ipywidgets 7 has no Stack: only the fallback applies")


def _line_view(kind_options=("sin", "cos"), k_max=3):
    """A view over an IntSlider that starts at 1 (so Stack slot 0 is empty) and a Dropdown."""
    import numpy as np

    fig, ax = plt.subplots(figsize=(2, 1.5))
    x = np.linspace(0, 6, 50)
    (line,) = ax.plot(x, np.sin(x))
    ax.set_ylim(-1.1, 1.1)

    def update(k, kind):
        line.set_ydata(getattr(np, kind)(k * x))
        return f"{kind}({k} x)"

    controls = {"k": ipywidgets.IntSlider(2, 1, k_max, description="k"),
                "kind": ipywidgets.Dropdown(options=list(kind_options), value=kind_options[0], description="kind")}
    return widgets.controls_view(controls, fig, update), fig


@pytest.fixture
def precompute(monkeypatch):
    """Building the website: views kernel-free where they can be, and a note on those that cannot."""
    monkeypatch.setenv("COURSE_PRECOMPUTE", "1")
    monkeypatch.setenv("COURSE_SITE", "1")


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


@needs_stack
def test_linked_frames_match_the_kernel_side_render(precompute, monkeypatch):
    view, _ = _line_view()
    assert view.kernel_free and view.shown is not None and view.image not in view.widget.children
    outer = view.shown
    assert isinstance(outer, ipywidgets.Stack) and len(outer.children) == 4  # slots 0..3, value = index
    assert type(outer.children[0]) is ipywidgets.Box  # no value of the slider selects slot 0
    assert outer.selected_index == 2 and outer.children[2].selected_index == 0

    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")
    plain, _ = _line_view()  # the same view as the chapters build it today
    assert not plain.kernel_free and plain.image in plain.widget.children
    for k in (1, 2, 3):
        for index, kind in enumerate(("sin", "cos")):
            page = outer.children[k].children[index]
            png, caption = page.children[0].value, page.children[1].value
            plain.controls["k"].value, plain.controls["kind"].value = k, kind
            assert png == plain.image.value, f"the precomputed frame for k={k}, kind={kind} differs from the render"
            assert caption == plain.caption.value == f"<code>{kind}({k} x)</code>"
            view.controls["k"].value, view.controls["kind"].value = k, kind  # the kernel side still follows
            assert view.image.value == png and view.caption.value == caption


@needs_stack
def test_every_control_is_linked_to_the_stacks_of_its_level(precompute):
    view, _ = _line_view()
    outer = view.shown
    inner = [c for c in outer.children if isinstance(c, ipywidgets.Stack)]
    pairs = {(link.source[0].description, link.source[1], id(link.target[0]), link.target[1]) for link in view.links}
    assert ("k", "value", id(outer), "selected_index") in pairs  # an IntSlider carries its value
    for stack in inner:  # a Dropdown carries its index, to every inner Stack
        assert ("kind", "index", id(stack), "selected_index") in pairs
    assert len(view.links) == 1 + len(inner) == 4


@needs_stack
def test_dropped_frames_are_rendered_again_into_the_linked_pages(precompute):
    view, fig = _line_view()
    line = fig.axes[0].lines[0]
    page = view.shown.children[1].children[0]
    old = page.children[0].value
    order = []
    for k in (1, 2, 3):
        for index, kind in enumerate(("sin", "cos")):
            view.shown.children[k].children[index].children[0].observe(lambda _, s=(k, kind): order.append(s), "value")
    view.controls["k"].value, view.controls["kind"].value = 3, "cos"
    line.set_linestyle("--")  # new data behind the same controls, as the GAN view's "new pair of z" button does
    view.frames.clear()
    view.redraw()
    assert page.children[0].value != old and len(view.frames) == 6
    assert len(order) == 6 and order[0] == (3, "cos")  # the page on screen is rendered first


@needs_stack
def test_a_view_with_too_many_settings_says_which_controls_need_a_kernel(precompute):
    view, _ = _line_view(k_max=widgets.LINKED_MAX_FRAMES)  # 2 x LINKED_MAX_FRAMES settings
    assert not view.kernel_free and view.image in view.widget.children
    assert "<b>k</b> and <b>kind</b>" in view.note.value and f"{2 * widgets.LINKED_MAX_FRAMES} settings" in view.note.value
    assert view.note in view.widget.children and "course-needs-kernel" in view.note._dom_classes


@needs_stack
def test_a_view_whose_frames_weigh_too_much_needs_a_kernel(precompute, monkeypatch):
    monkeypatch.setattr(widgets, "LINKED_MAX_BYTES", 1000)  # the six small frames weigh more than this
    view, _ = _line_view()
    assert not view.kernel_free and "MB of frames" in view.note.value and len(view.frames) == 6
    browser = widgets.frame_browser([b"x" * 600, b"y" * 600])
    assert not browser.kernel_free and "2 frames" in browser.note.value


@needs_stack
def test_float_sliders_and_free_text_are_not_linked(precompute):
    assert widgets.link_slots(ipywidgets.FloatSlider(0.5, min=0, max=1, step=0.5)) is None
    assert widgets.link_slots(ipywidgets.Text("abc")) is None
    assert widgets.link_slots(ipywidgets.IntSlider(0, -2, 2)) is None  # a negative value is no Stack index
    assert widgets.link_slots(ipywidgets.IntSlider(2, 0, 6, step=2))[1][1] is widgets._EMPTY
    fig, ax = plt.subplots(figsize=(2, 1.5))
    view = widgets.controls_view({"t": ipywidgets.FloatSlider(0.5, min=0, max=1, step=0.5, description="t")}, fig,
                                 lambda t: ax.set_title(f"{t}") and None)
    assert not view.kernel_free and "<b>t</b>" in view.note.value


@needs_stack
def test_a_button_added_to_a_kernel_free_view_is_named_as_needing_a_kernel(precompute):
    view, _ = _line_view()
    view.add("resample", ipywidgets.Button(description="new pair"), where="after_controls")
    assert view.widget.children.index(view.parts["resample"]) == view.widget.children.index(view.shown) - 1
    assert "the button <b>new pair</b>" in view.note.value
    view.add("seed", ipywidgets.VBox([ipywidgets.Text(description="seed text")]))
    assert "the button <b>new pair</b>; the text box <b>seed text</b>" in view.note.value


@needs_stack
def test_frame_browser_links_its_slider_and_play_button(precompute):
    frames = [bytes([i]) * 10 for i in range(5)]
    view = widgets.frame_browser(frames, [f"frame {i}" for i in range(5)], value=4, play=True)
    assert view.kernel_free and view.shown.selected_index == 4
    assert [p.children[0].value for p in view.shown.children] == frames
    assert view.shown.children[3].children[1].value == "<code>frame 3</code>"
    (link,) = view.links
    assert link.source == (view.controls["frame"], "value") and link.target == (view.shown, "selected_index")
    view.controls["frame"].value = 1
    assert view.image.value == frames[1]


@needs_stack
def test_kernel_free_by_default_with_no_note_where_the_kernel_is_live(monkeypatch):
    monkeypatch.delenv("COURSE_PRECOMPUTE", raising=False)
    monkeypatch.delenv("COURSE_SITE", raising=False)
    assert widgets.kernel_free() and not widgets.on_site()
    view, _ = _line_view()
    assert view.kernel_free and view.note is None
    many, _ = _line_view(k_max=widgets.LINKED_MAX_FRAMES)  # too many settings: the kernel swap, and no note
    assert not many.kernel_free and many.note is None and many.image in many.widget.children
    many.add("resample", ipywidgets.Button(description="new pair"))
    view.add("resample", ipywidgets.Button(description="new pair"))
    assert many.note is None and view.note is None  # the buttons work: the kernel is there


def test_precompute_0_gives_the_kernel_swap(monkeypatch):
    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")
    monkeypatch.setenv("COURSE_SITE", "1")
    assert not widgets.kernel_free()
    view, _ = _line_view()
    assert not view.kernel_free and view.shown is None
    assert list(view.widget.children)[1:3] == [view.image, view.caption]


def test_without_stack_the_same_calls_fall_back_to_the_kernel_swap(monkeypatch):
    """ipywidgets 7.7 (Colab) has no Stack: the views are today's, with no note (Colab has a live kernel)."""
    monkeypatch.setenv("COURSE_PRECOMPUTE", "1")
    monkeypatch.delenv("COURSE_SITE", raising=False)
    if HAS_STACK:
        monkeypatch.delattr(ipywidgets, "Stack")
    assert not widgets.kernel_free()
    view, _ = _line_view()
    assert not view.kernel_free and view.note is None and view.image in view.widget.children
    view.controls["k"].value = 3
    assert view.caption.value == "<code>sin(3 x)</code>" and view.image.value == view.frames[(("k", 3), ("kind", "sin"))]
    browser = widgets.frame_browser([b"a", b"b"])
    assert not browser.kernel_free and browser.image in browser.widget.children


def test_a_misspelt_flag_is_refused(monkeypatch):
    monkeypatch.setenv("COURSE_PRECOMPUTE", "yes please")
    with pytest.raises(ValueError, match="COURSE_PRECOMPUTE"):
        widgets.kernel_free()


@needs_stack
def test_a_partly_linked_view_links_one_control_and_rerenders_its_pages_when_another_moves(precompute, monkeypatch):
    import numpy as np

    def build(link):
        fig, ax = plt.subplots(figsize=(2, 1.5))
        x = np.linspace(0, 6, 50)
        (line,) = ax.plot(x, np.sin(x))
        ax.set_ylim(-3.1, 3.1)

        def update(k, amp):
            line.set_ydata(amp * np.sin(k * x + 0.5))  # + 0.5: no two settings draw the same line
            return f"{amp} sin({k} x + 0.5)"

        controls = {"amp": ipywidgets.IntSlider(1, 1, 3, description="amplitude"),
                    "k": ipywidgets.IntSlider(2, 0, 4, description="k")}
        return widgets.controls_view(controls, fig, update, link=link)

    view = build(["k"])
    assert view.kernel_free and len(view.shown.children) == 5  # the k slider only: 5 frames, not 15
    (link,) = view.links
    assert link.source == (view.controls["k"], "value")
    assert "course-kernel-driven" in view.controls["amp"]._dom_classes
    assert "course-kernel-driven" not in view.controls["k"]._dom_classes
    assert "<b>amplitude</b>" in view.note.value and "<b>k</b>" not in view.note.value

    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")
    plain = build(None)  # the kernel swap renders what each setting should show

    def expected(amp, k):
        plain.controls["amp"].value, plain.controls["k"].value = amp, k
        return plain.image.value

    pages = view.shown.children
    assert [p.children[0].value for p in pages] == [expected(1, k) for k in range(5)]
    order = []
    for p in pages:
        p.children[0].observe(lambda change, p=p: order.append(pages.index(p)), names="value")
    view.controls["amp"].value = 3  # the kernel re-renders every page for amplitude 3, the one on screen first
    assert [p.children[0].value for p in pages] == [expected(3, k) for k in range(5)]
    assert order[0] == 2 and sorted(order) == [0, 1, 2, 3, 4]
    assert pages[4].children[1].value == "<code>3 sin(4 x + 0.5)</code>"
    order.clear()
    view.controls["k"].value = 4  # the browser swaps; the kernel side follows without re-rendering a page
    assert view.image.value == expected(3, 4) and order == []


def test_link_must_name_controls_of_the_view():
    fig, _ = plt.subplots()
    controls = {"k": ipywidgets.IntSlider(1, 0, 3)}
    for bad in ("k", [], ["x"]):
        with pytest.raises(ValueError, match="link must be"):
            widgets.controls_view(controls, fig, lambda k: None, link=bad)


_FIGURE_PNG = widgets.figure_png  # the real one, for views that count their renders
_LOGS = {}  # figure -> (its view's update calls, the settings it rendered)


def _counting_png(figure, dpi=80):
    if figure in _LOGS:
        calls, rendered = _LOGS[figure]
        rendered.append(calls[-1])
    return _FIGURE_PNG(figure, dpi)


def _wait_for(condition, seconds: float = 10.0) -> bool:
    import time

    end = time.monotonic() + seconds
    while time.monotonic() < end:
        if condition():
            return True
        time.sleep(0.02)
    return condition()


def _counting_view(monkeypatch, **kwargs):
    """A kernel-driven view over an IntSlider 0..9 (too many settings to precompute); returns it, the log of its
    ``update`` calls and the log of the settings it rendered to PNG."""
    import numpy as np

    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")
    fig, ax = plt.subplots(figsize=(2, 1.5))
    x = np.linspace(0, 6, 50)
    (line,) = ax.plot(x, np.sin(x))
    calls, rendered = [], []
    _LOGS[fig] = calls, rendered
    monkeypatch.setattr(widgets, "figure_png", _counting_png)  # views render through the module's name

    def update(k):
        calls.append(k)
        line.set_ydata(np.sin(k * x + 0.5))
        return f"sin({k} x + 0.5)"

    view = widgets.controls_view({"k": ipywidgets.IntSlider(4, 0, 9, description="k")}, fig, update,
                                 precompute=False, **kwargs)
    return view, calls, rendered


def test_a_move_in_the_page_draws_the_neighbouring_frames_ahead(monkeypatch):
    view, calls, rendered = _counting_view(monkeypatch)
    key = lambda k: (("k", k),)  # noqa: E731
    view.controls["k"].set_state({"value": 6})  # what ipywidgets does with a move the reader made in the page
    assert view.image.value == view.frames[key(6)]
    assert _wait_for(lambda: rendered == [4, 6, 7, 5])  # the next one in the direction of the move first
    assert _wait_for(lambda: calls[-1] == 6)  # and the figure's artists are left at the setting on screen
    fresh, _, _ = _counting_view(monkeypatch, prefetch=False)
    fresh.controls["k"].value = 7
    assert view.frames[key(7)] == fresh.image.value  # a frame drawn ahead is the frame that setting renders
    rendered.clear()
    view.controls["k"].set_state({"value": 7})  # found in the cache: shown without rendering it again
    assert view.image.value == fresh.image.value and 7 not in rendered
    assert _wait_for(lambda: rendered == [8])  # its neighbours: 8 is drawn ahead, 6 is in the cache already


def test_moves_made_from_code_or_with_prefetch_off_draw_nothing_ahead(monkeypatch):
    import time

    view, _, rendered = _counting_view(monkeypatch)
    view.controls["k"].value = 6  # a change from code (a test, a chapter cell) is not a reader stepping through
    off, _, rendered_off = _counting_view(monkeypatch, prefetch=False)
    off.controls["k"].set_state({"value": 6})
    time.sleep(0.5)
    assert rendered == rendered_off == [4, 6]
    with pytest.raises(TypeError, match="prefetch must be"):
        _counting_view(monkeypatch, prefetch="yes")


@needs_stack
def test_a_partly_linked_view_draws_the_page_on_screen_of_the_neighbouring_setting_ahead(precompute):
    import numpy as np

    fig, ax = plt.subplots(figsize=(2, 1.5))
    x = np.linspace(0, 6, 50)
    (line,) = ax.plot(x, np.sin(x))
    controls = {"amp": ipywidgets.IntSlider(1, 1, 4, description="amplitude"),
                "k": ipywidgets.IntSlider(2, 0, 3, description="k")}
    view = widgets.controls_view(controls, fig, lambda amp, k: line.set_ydata(amp * np.sin(k * x)), link=["k"],
                                 precompute=False)  # (16 settings would all be precomputed by default)
    controls["k"].set_state({"value": 3})  # the browser shows it: the kernel follows and draws nothing ahead
    controls["amp"].set_state({"value": 2})  # the kernel re-renders the pages for amplitude 2 ...
    assert {(("amp", 2), ("k", k)) for k in range(4)} <= set(view.frames)
    # ... and draws ahead the page on screen (k = 3) for amplitude 3; the others follow when the reader gets there
    assert _wait_for(lambda: (("amp", 3), ("k", 3)) in view.frames)
    assert [key for key in view.frames if ("amp", 3) in key] == [(("amp", 3), ("k", 3))]
    assert not any(("amp", 4) in key for key in view.frames)  # only the neighbours of the setting on screen
