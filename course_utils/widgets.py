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
"""

from __future__ import annotations

import inspect
import io
import time
from collections.abc import Callable, Sequence
from dataclasses import dataclass, field
from typing import Any

from matplotlib.figure import Figure


def figure_png(fig: Figure, dpi: int = 80) -> bytes:
    """Render ``fig`` to PNG bytes (light compression: a widget frame should be fast, not small)."""
    if not isinstance(fig, Figure):
        raise TypeError(f"figure_png takes a matplotlib Figure, got {type(fig).__name__}.")
    buf = io.BytesIO()
    fig.savefig(buf, format="png", dpi=dpi, pil_kwargs={"compress_level": 1})
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

    def add(self, name: str, part, where: str = "bottom") -> View:
        """Show another widget ``part`` above the controls (``where='top'``), between the controls and the image
        (``'after_controls'``) or under the caption (``'bottom'``); returns self."""
        if where not in {"top", "after_controls", "bottom"}:
            raise ValueError(f"where must be 'top', 'after_controls' or 'bottom', not {where!r}.")
        if name in self.parts or name in self.controls:
            raise ValueError(f"this view already has a part named {name!r}.")
        children = list(self.widget.children)
        at = {"top": 0, "bottom": len(children), "after_controls": children.index(self.image)}[where]
        self.widget.children = [*children[:at], part, *children[at:]]
        self.parts[name] = part
        return self

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


def controls_view(controls: dict, fig: Figure, update: Callable[..., str | None], dpi: int = 80,
                  precompute: bool | None = None, max_frames: int = 40):
    """Controls (name -> ipywidget) that redraw ``fig`` through ``update(**values)``.

    ``update`` changes the figure's artists from the control values alone and may return a caption
    (shown under the figure). Every rendered PNG is cached, so returning to a setting skips the rendering.
    ``precompute`` renders every combination of the controls' values up front, so even the first move
    only swaps images; by default (None) that happens when all controls are discrete and there are at
    most ``max_frames`` combinations. Returns a ``View``.
    """
    import itertools

    import ipywidgets as w

    if not controls:
        raise ValueError("controls_view needs at least one control, e.g. {'k': IntSlider(...)}.")
    caption = w.HTML()
    view = FigureView(fig, dpi, render=False)
    cache: dict[tuple, bytes] = {}
    first = {name: c.value for name, c in controls.items()}

    def render(values: dict) -> tuple[bytes, str]:
        text = update(**values)  # cheap (artists only), so the figure always shows the current setting
        key = _key(values)
        if key not in cache:  # rendering the PNG is the slow part
            cache[key] = figure_png(fig, dpi)
        return cache[key], f"<code>{text}</code>" if text else ""

    def redraw(_change=None):
        start = time.perf_counter()
        png, caption.value = render({name: c.value for name, c in controls.items()})
        view.image.value = png
        view.last_render_ms = 1000 * (time.perf_counter() - start)

    spaces = [control_values(c) for c in controls.values()]
    combos = None if any(s is None for s in spaces) else len(list(itertools.product(*spaces)))
    if precompute is None:
        precompute = combos is not None and combos <= max_frames
    if precompute and combos is None:
        raise ValueError("precompute=True needs discrete controls (sliders with a step, pickers, check boxes).")
    redraw()  # the first frame lays the figure out with its real titles and labels ...
    view.freeze_layout()  # ... and every later frame reuses that layout
    if precompute:
        for combo in itertools.product(*spaces):
            render(dict(zip(controls, combo)))
        render(first)  # leave the figure's artists at the current setting
    for c in controls.values():
        c.observe(redraw, names="value")
    box = w.VBox([w.HBox(list(controls.values()), layout=w.Layout(flex_flow="row wrap")), view.image, caption])
    return View(box, dict(controls), view.image, caption, figure=fig, frames=cache, redraw=redraw, figure_view=view)


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
    box = w.VBox([w.HBox(list(controls.values())), image, caption])
    return View(box, controls, image, caption, frames=list(frames))


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
