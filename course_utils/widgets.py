"""The course's one pattern for slider-driven views, built from core ipywidgets only.

Introduced in chapter 01. A view is a matplotlib figure shown as an ``ipywidgets.Image``:
moving a control updates the figure's existing artists (``im.set_data``, ``line.set_ydata``)
and swaps the PNG bytes of the image, so nothing is re-plotted and Colab needs no extra setup.
Where a slider browses a fixed set of pictures, ``frame_browser`` precomputes them once.
Every widget cell in the course also shows a static figure of the same lesson (``show``), so a
reader on GitHub, nbviewer or an exported HTML page still sees it.

Views return a ``View``: named parts (``controls``, ``image``, ``caption``, ``figure``, ``frames``) that
tests and chapters use by name, and that displays itself. Everything here works on ipywidgets 7.7 (what
Colab ships) and 8.x.

**Kernel-free views** (the default wherever ipywidgets has ``Stack``; ``COURSE_PRECOMPUTE=0`` turns them off):
where every control ranges over a finite set (sliders with a step, dropdowns, toggle buttons) and their product is
small (``LINKED_MAX_FRAMES``), ``controls_view`` and ``frame_browser`` precompute every frame and show them in an
``ipywidgets.Stack`` whose ``selected_index`` the browser links to the controls (``jslink``; nested stacks for
several controls). In JupyterLab the view then answers without a round trip to the kernel, and on a static page
(the course website) it works with no kernel at all. A view with too many settings can link some of its controls
(``controls_view(link=[...])``): their frames are precomputed for the current values of the others, which re-render
them through the kernel when they move. The kernel side stays as it was (``image``, ``caption`` and
``frames`` follow the controls), so code and tests that read them are unaffected. Views that cannot be linked keep
the kernel-driven swap; when the website is built (``COURSE_SITE=1``) they say on the page which controls need a
live kernel. On ipywidgets 7 (Colab: no ``Stack``) every view keeps the kernel-driven swap.
"""

from __future__ import annotations

import inspect
import io
import threading
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes (light compression: a widget frame should be fast, not small).

    The pixels ``savefig`` gives (a live constrained layout may settle a fraction of a pixel differently), but a
    figure whose layout is frozen (``FigureView.freeze_layout``) is drawn once, straight onto an Agg renderer:
    ``savefig`` also makes a dry run whenever a figure has any layout engine, even the placeholder a frozen layout
    leaves, and that run cost a widget frame about a third of its time.
    """
    if not isinstance(fig, Figure):
        raise TypeError(f"figure_png takes a matplotlib Figure, got {type(fig).__name__}.")
    if not (isinstance(dpi, int | float) and not isinstance(dpi, bool) and 10 <= dpi <= 600):
        raise ValueError(f"dpi must be a number from 10 to 600, not {dpi!r}.")
    from matplotlib.backends.backend_agg import RendererAgg
    from matplotlib.layout_engine import PlaceHolderLayoutEngine
    from PIL import Image

    old_dpi = fig.dpi
    try:
        fig.dpi = dpi
        width, height = fig.bbox.size
        renderer = RendererAgg(round(width), round(height), dpi)
        engine = fig.get_layout_engine()
        if engine is not None and not isinstance(engine, PlaceHolderLayoutEngine):
            fig.draw_without_rendering()  # a live layout runs twice, as savefig runs it
        fig.draw(renderer)
        pixels = Image.frombuffer("RGBA", (round(width), round(height)), renderer.buffer_rgba(), "raw", "RGBA", 0, 1)
    finally:
        fig.dpi = old_dpi
    buf = io.BytesIO()
    pixels.save(buf, format="png", compress_level=1)
    return buf.getvalue()


class FigureView:
    """A figure shown as an image widget (its PNG in ``image.value``), with the time the last render took."""

    def __init__(self, fig: Figure, dpi: int = 80, render: bool = True):
        import ipywidgets as w

        self.fig, self.dpi = fig, dpi
        self.image = w.Image(format="png", value=figure_png(fig, dpi) if render else b"")
        self.last_render_ms = 0.0

    def freeze_layout(self) -> None:
        """Keep the layout of the last render: controls only change artists, and re-running the
        constrained layout on every frame costs more than drawing it (and would make panels jump)."""
        if self.fig.get_layout_engine() is not None:
            self.fig.set_layout_engine("none")



@dataclass(eq=False)
class View:
    """A widget view with named parts; a notebook cell that ends with it displays ``widget``.

    ``controls`` maps names to the input widgets, ``image`` is the ``ipywidgets.Image`` that shows the figure,
    ``caption`` the ``HTML`` under it, ``figure`` the matplotlib figure behind the image (if any), ``frames``
    the rendered PNGs (a dict keyed by control values, or a list), ``redraw()`` renders the current setting,
    and ``parts`` holds any other named widgets (buttons, panels) a view adds with ``add``.
    """

    widget: Any
    controls: dict
    image: Any
    caption: Any
    figure: Figure | None = None
    frames: Any = None
    redraw: Callable[[], None] | None = None
    parts: dict = field(default_factory=dict)
    figure_view: FigureView | None = None
    shown: Any = None  # what the page shows in place of ``image`` (the linked Stack of a kernel-free view)
    links: list = field(default_factory=list)  # the browser-side links of a kernel-free view
    note: Any = None  # the HTML that says which controls need a live kernel (on the website: COURSE_SITE=1)

    @property
    def kernel_free(self) -> bool:
        """True when the browser links this view's controls to precomputed frames (works without a kernel)."""
        return bool(self.links)

    def add(self, name: str, part, where: str = "bottom") -> View:
        """Show another widget ``part`` above the controls (``where='top'``), between the controls and the image
        (``'after_controls'``) or under the caption (``'bottom'``); returns self."""
        if where not in {"top", "after_controls", "bottom"}:
            raise ValueError(f"where must be 'top', 'after_controls' or 'bottom', not {where!r}.")
        if name in self.parts or name in self.controls:
            raise ValueError(f"this view already has a part named {name!r}.")
        children = list(self.widget.children)
        image = self.shown if self.shown is not None else self.image
        at = {"top": 0, "bottom": len(children), "after_controls": children.index(image)}[where]
        self.widget.children = [*children[:at], part, *children[at:]]
        self.parts[name] = part
        if self.kernel_free and on_site():  # what the part adds runs in the kernel: say so on a page without one
            buttons, boxes = ([i.description or name for i in _inputs(part, kind)] for kind in ("Button", "Text"))
            if buttons:
                self._say_needs_kernel(f"the button{'s' if len(buttons) > 1 else ''} {_names(buttons)}")
            if boxes:
                self._say_needs_kernel(f"the text box{'es' if len(boxes) > 1 else ''} {_names(boxes)}")
        return self

    def _say_needs_kernel(self, what: str) -> None:
        """Add (or extend) the note under the view that says which controls need a live kernel."""
        import ipywidgets as w

        if self.note is None:
            self.note = w.HTML()
            self.note.add_class("course-needs-kernel")
            self.widget.children = [*self.widget.children, self.note]
            self._needs = []
        self._needs.append(what)
        self.note.value = ("<i>These need a live kernel, so on a page without one (such as the course website) "
                           f"they do nothing: {'; '.join(self._needs)}. Run the notebook in JupyterLab or Colab to "
                           "use them; the static figure below shows the same lesson.</i>")

    @property
    def last_render_ms(self) -> float:
        return self.figure_view.last_render_ms if self.figure_view is not None else 0.0

    def _ipython_display_(self):
        from IPython.display import display

        display(self.widget)



def control_values(control) -> list | None:
    """Every value a discrete control can take (sliders with a step, pickers, check boxes), else None."""
    import ipywidgets as w

    if isinstance(control, w.IntSlider):
        return list(range(control.min, control.max + 1, control.step))
    if isinstance(control, w.FloatSlider):
        n = int(round((control.max - control.min) / control.step))
        return [round(control.min + i * control.step, 10) for i in range(n + 1)]
    if isinstance(control, (w.Checkbox, w.ToggleButton)):
        return [False, True]
    options = getattr(control, "_options_values", None)
    return list(options) if options is not None else None


def _key(values: dict) -> tuple:
    return tuple((k, round(v, 10) if isinstance(v, float) else v) for k, v in values.items())


# The most frames a kernel-free view precomputes (the product of its controls' values) and the most PNG bytes they
# may weigh together; above either, the view needs a live kernel. Every frame is in the page (base64 in the widget
# state, a third heavier), so the two bound the render time and the page weight. 160 frames hold chapter 02's
# explorer (16 radii x 3 nonlinearities x 3 input scales) and take a few seconds to render.
LINKED_MAX_FRAMES = 160
LINKED_MAX_BYTES = 4_000_000
_EMPTY = object()  # a Stack slot that no control value selects (an IntSlider's values below min, between steps)


def kernel_free() -> bool:
    """True when views should link their controls to precomputed frames in the browser: an ipywidgets with ``Stack``
    (8.x; Colab's 7.7 has none, so views keep the kernel swap) unless ``COURSE_PRECOMPUTE=0``."""
    import ipywidgets as w

    from .runtime import flag

    return flag("COURSE_PRECOMPUTE", default=True) and hasattr(w, "Stack")


def on_site() -> bool:
    """True while the course website is built (``COURSE_SITE=1``): its pages have no kernel, so a view that is not
    kernel-free says which of its controls need one. In JupyterLab and Colab the kernel is live and no note shows."""
    from .runtime import flag

    return flag("COURSE_SITE")


def link_slots(control) -> tuple[str, list] | None:
    """How the browser can carry ``control`` to a ``Stack.selected_index``: ``(trait, slots)``, where the Stack's
    child i shows the control value ``slots[i]`` (``_EMPTY`` where no value selects i), or None when it cannot
    (float sliders, check boxes, free text: their value is no index)."""
    import ipywidgets as w

    if isinstance(control, w.IntSlider):
        if control.min < 0 or control.max >= 4 * LINKED_MAX_FRAMES:
            return None
        reach = set(range(control.min, control.max + 1, control.step))
        return "value", [v if v in reach else _EMPTY for v in range(control.max + 1)]
    values = getattr(control, "_options_values", None)
    if values is not None and control.has_trait("index"):
        return "index", list(values)
    return None


def _names(items: list[str]) -> str:
    items = [f"<b>{i}</b>" for i in items]
    return items[0] if len(items) == 1 else ", ".join(items[:-1]) + " and " + items[-1]


def _inputs(part, kind: str) -> list:
    """The widgets of class ``kind`` ("Button", "Text") in ``part`` and its children."""
    import ipywidgets as w

    if isinstance(part, getattr(w, kind)):
        return [part]
    return [b for child in getattr(part, "children", ()) for b in _inputs(child, kind)]


def _frame_page(png: bytes, caption: str):
    """One precomputed frame as the page shows it: the image and its caption."""
    import ipywidgets as w

    return w.VBox([w.Image(format="png", value=png), w.HTML(caption)])


def linked_stack(controls: dict, slots: dict, page: Callable[[dict], Any]):
    """A Stack (nested, one level per control) whose selected child the browser links to the controls.

    ``slots`` maps each control name to ``link_slots(control)``; ``page(values)`` returns the widget shown for one
    setting. Returns ``(stack, links)``: moving any control only changes which child the browser shows.
    """
    import ipywidgets as w

    names, links = list(controls), []

    def level(i: int, prefix: dict):
        name = names[i]
        trait, values = slots[name]
        children = []
        for v in values:
            if v is _EMPTY:
                children.append(w.Box())
                continue
            here = {**prefix, name: v}
            children.append(page(here) if i == len(names) - 1 else level(i + 1, here))
        stack = w.Stack(children, selected_index=getattr(controls[name], trait))
        links.append(w.jslink((controls[name], trait), (stack, "selected_index")))
        return stack

    return level(0, {}), links


def controls_view(controls: dict, fig: Figure, update: Callable[..., str | None], dpi: int = 80,
                  precompute: bool | None = None, max_frames: int = 40, link: Sequence[str] | None = None,
                  prefetch: bool = True):
    """Controls (name -> ipywidget) that redraw ``fig`` through ``update(**values)``.

    ``update`` changes the figure's artists from the control values alone and may return a caption
    (shown under the figure). Every rendered PNG is cached, so returning to a setting skips the rendering.
    ``precompute`` renders every combination of the controls' values up front, so even the first move
    only swaps images; by default (None) that happens when all controls are discrete and there are at
    most ``max_frames`` combinations. Where views are kernel-free (``kernel_free``), a view whose controls can be
    linked and have at most ``LINKED_MAX_FRAMES`` combinations is precomputed and shown as a linked Stack (it
    works without a kernel); on the website (``on_site``) any other view says that its controls need a live kernel.
    ``link`` names the controls to link when the product of all of them is too large: the Stack then holds the
    frames of those controls at the current values of the others, and moving another control re-renders the
    Stack's pages through the kernel (the one on screen first). Those other controls get the class
    ``course-kernel-driven`` and, on the website, the note names them. ``prefetch`` (on by default): after the
    reader moves a control whose frames are drawn by the kernel, a background thread draws the frames of its two
    neighbouring values (the next one in the direction of the move first; of a partly linked view only the page on
    screen), so stepping through a slider with the arrow keys mostly finds its frame drawn; a further move stops
    it. Changes made from code do not prefetch.
    Returns a ``View``.
    """
    import itertools

    import ipywidgets as w

    if not controls:
        raise ValueError("controls_view needs at least one control, e.g. {'k': IntSlider(...)}.")
    if link is not None and (isinstance(link, str) or not link or not set(link) <= set(controls)):
        raise ValueError(f"link must be a non-empty list of control names (of {', '.join(controls)}), not {link!r}.")
    if not isinstance(prefetch, bool):
        raise TypeError(f"prefetch must be True or False, not {prefetch!r}.")
    linked_names = list(controls) if link is None else [n for n in controls if n in link]
    caption = w.HTML()
    view = FigureView(fig, dpi, render=False)
    cache: dict[tuple, bytes] = {}
    pages: dict[tuple, Any] = {}  # the Stack's frame pages of a kernel-free view, by setting of the linked controls
    first = {name: c.value for name, c in controls.items()}
    lock = threading.RLock()  # one figure: the reader's moves and the prefetch thread draw it in turn
    moves = [0]  # the reader's moves so far; a prefetch stops when it is no longer the last one's
    kernel_driven = set(controls)  # the controls whose frames the kernel draws when they move (fixed below)

    def render(values: dict) -> tuple[bytes, str]:
        with lock:
            text = update(**values)  # cheap (artists only), so the figure always shows the current setting
            key = _key(values)
            if key not in cache:  # rendering the PNG is the slow part
                cache[key] = figure_png(fig, dpi)
            return cache[key], f"<code>{text}</code>" if text else ""

    def setting(linked_values: dict) -> dict:  # the full setting a page shows: the others at their current values
        return {name: linked_values.get(name, c.value) for name, c in controls.items()}

    def redraw(change=None):
        start = time.perf_counter()
        moves[0] += 1
        with lock:
            current = {name: c.value for name, c in controls.items()}
            png, caption.value = render(current)
            view.image.value = png
            # A page is stale when another control moved or the frames were dropped (new data): re-render those,
            # the one on screen first, so the reader sees the change at once.
            stale = [(key, page) for key, page in pages.items()
                     if page.children[0].value != cache.get(_key(setting(dict(key))))]
            if stale:
                now = _key({name: current[name] for name in linked_names})
                for key, page in sorted(stale, key=lambda item: item[0] != now):
                    page.children[0].value, page.children[1].value = render(setting(dict(key)))
                render(current)
        view.last_render_ms = 1000 * (time.perf_counter() - start)
        # A move the reader made in the page (ipywidgets holds the synced names in ``_property_lock`` while it
        # applies them) on a control the kernel draws: draw its neighbours in the background.
        owner = getattr(change, "owner", None) if change is not None else None
        if prefetch and getattr(owner, "_property_lock", None):
            name = next((n for n, c in controls.items() if c is owner), None)
            values = control_values(owner) if name in kernel_driven else None
            if values and change["new"] in values and change["old"] in values:
                here, before = values.index(change["new"]), values.index(change["old"])
                ahead = 1 if here >= before else -1
                near = [values[i] for i in (here + ahead, here - ahead) if 0 <= i < len(values)]
                # only the frame on screen: of a partly linked view, the other pages follow after it (see above)
                settings = [{**current, name: v} for v in near]
                threading.Thread(target=draw_ahead, args=(settings, moves[0]), daemon=True).start()

    def draw_ahead(settings: list[dict], move: int) -> None:
        """Draw the frames of ``settings`` into the cache, one at a time, until the reader moves again."""
        for values in settings:
            with lock:
                if moves[0] != move:
                    return
                if _key(values) not in cache:
                    update(**values)
                    cache[_key(values)] = figure_png(fig, dpi)
        with lock:
            if moves[0] == move:  # leave the figure's artists at what the page shows
                update(**{name: c.value for name, c in controls.items()})

    spaces = [control_values(c) for c in controls.values()]
    combos = None if any(s is None for s in spaces) else len(list(itertools.product(*spaces)))
    if precompute is None:
        precompute = combos is not None and combos <= max_frames
    if precompute and combos is None:
        raise ValueError("precompute=True needs discrete controls (sliders with a step, pickers, check boxes).")
    slots = {name: link_slots(controls[name]) for name in linked_names} if kernel_free() else {}
    linked_spaces = [control_values(controls[name]) for name in linked_names]
    linked_combos = None if any(s is None for s in linked_spaces) else len(list(itertools.product(*linked_spaces)))
    linked = bool(slots) and all(slots.values()) and linked_combos is not None and linked_combos <= LINKED_MAX_FRAMES
    redraw()  # the first frame lays the figure out with its real titles and labels ...
    view.freeze_layout()  # ... and every later frame reuses that layout
    if precompute:
        for combo in itertools.product(*spaces):
            render(dict(zip(controls, combo)))
    if linked:
        for combo in itertools.product(*linked_spaces):
            render(setting(dict(zip(linked_names, combo))))
    if precompute or linked:
        render(first)  # leave the figure's artists at the current setting
    heavy = sum(len(png) for png in cache.values()) if linked else 0
    linked = linked and heavy <= LINKED_MAX_BYTES
    if linked:
        kernel_driven -= set(linked_names)  # the browser shows their frames; the kernel only follows
    for c in controls.values():
        c.observe(redraw, names="value")
    row = w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap"))
    if not linked:
        box = w.VBox([row, view.image, caption])
        result = View(box, dict(controls), view.image, caption, figure=fig, frames=cache, redraw=redraw,
                      figure_view=view)
        if on_site():  # a page without a kernel: say which controls do nothing there
            why = ("" if combos is None else
                   f" ({combos} settings, more than the {LINKED_MAX_FRAMES} a page precomputes)"
                   if combos > LINKED_MAX_FRAMES else
                   f" ({heavy / 1e6:.1f} MB of frames, more than the {LINKED_MAX_BYTES / 1e6:.0f} MB a view may add "
                   "to a page)" if heavy > LINKED_MAX_BYTES else "")
            result._say_needs_kernel(f"the controls {_names([c.description or n for n, c in controls.items()])}{why}")
        return result

    def page(values: dict):
        pages[_key(values)] = _frame_page(*render(setting(values)))
        return pages[_key(values)]

    stack, links = linked_stack({name: controls[name] for name in linked_names}, slots, page)
    render(first)
    box = w.VBox([row, stack])
    box.add_class("course-kernel-free")
    result = View(box, dict(controls), view.image, caption, figure=fig, frames=cache, redraw=redraw, figure_view=view,
                  shown=stack, links=links)
    live = [name for name in controls if name not in linked_names]
    for name in live:  # these move the frames through the kernel
        controls[name].add_class("course-kernel-driven")
    if live and on_site():
        result._say_needs_kernel(f"the control{'s' if len(live) > 1 else ''} "
                                 f"{_names([controls[n].description or n for n in live])}")
    return result


def render_frames(fig: Figure, update: Callable[[int], None], n: int, dpi: int = 80) -> list[bytes]:
    """Precompute ``n`` PNG frames: for each i, ``update(i)`` changes the artists, then the figure renders."""
    if n < 1:
        raise ValueError(f"render_frames needs n >= 1 frames, got {n}.")
    frames = []
    for i in range(n):
        update(i)
        frames.append(figure_png(fig, dpi))
    return frames


def frame_browser(frames: Sequence[bytes], captions: Sequence[str] | None = None, description: str = "frame",
                  value: int = 0, play: bool = False):
    """A slider (and optional play button) that browses precomputed PNG frames instantly; returns a ``View``.

    The play button carries a text label, since Colab's frontend shows ``Play``'s icons blank.
    """
    import ipywidgets as w

    if len(frames) == 0:
        raise ValueError("frame_browser needs at least one frame.")
    if captions is not None and len(captions) != len(frames):
        raise ValueError(f"Got {len(captions)} captions for {len(frames)} frames; give one per frame.")
    slider = w.IntSlider(value=value, min=0, max=len(frames) - 1, description=description, continuous_update=True)
    image = w.Image(format="png", value=frames[value])
    caption = w.HTML(f"<code>{captions[value]}</code>" if captions else "")

    def show_frame(change):
        image.value = frames[change["new"]]
        if captions:
            caption.value = f"<code>{captions[change['new']]}</code>"

    slider.observe(show_frame, names="value")
    controls = {description: slider}
    if play:
        player = w.Play(min=0, max=len(frames) - 1, interval=300, description="play")
        w.jslink((player, "value"), (slider, "value"))
        controls = {"play": player, **controls}
    row = w.HBox(list(controls.values()))
    heavy = sum(len(f) for f in frames)
    if kernel_free() and len(frames) <= LINKED_MAX_FRAMES and heavy <= LINKED_MAX_BYTES:  # see kernel_free
        pages = [_frame_page(f, f"<code>{captions[i]}</code>" if captions else "") for i, f in enumerate(frames)]
        stack = w.Stack(pages, selected_index=value)
        box = w.VBox([row, stack])
        box.add_class("course-kernel-free")
        return View(box, controls, image, caption, frames=list(frames), shown=stack,
                    links=[w.jslink((slider, "value"), (stack, "selected_index"))])
    view = View(w.VBox([row, image, caption]), controls, image, caption, frames=list(frames))
    if on_site():
        view._say_needs_kernel(f"the controls {_names(list(controls))} ({len(frames)} frames, {heavy / 1e6:.1f} MB: "
                               f"more than the {LINKED_MAX_FRAMES} frames or {LINKED_MAX_BYTES / 1e6:.0f} MB a page "
                               "precomputes)")
    return view


def show(widget, static_figure: Figure | None = None, note: str = "Static view of the same lesson (for readers without a live kernel):"):
    """Display a widget and, below it, a static figure of the same lesson."""
    from IPython.display import Markdown, display

    display(widget)
    if static_figure is not None:
        display(Markdown(f"*{note}*"))
        display(static_figure)


def show_source(obj) -> None:
    """Display the source code of a course_utils function or class as a highlighted block."""
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(f"show_source needs a function or class defined in Python source, got {obj!r}.") from err
    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{source}```"))
