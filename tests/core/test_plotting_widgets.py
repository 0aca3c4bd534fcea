import ipywidgets
import pytest
import torch
from matplotlib.figure import Figure

from course_utils import plotting, train, widgets


def test_figures_are_returned_not_shown():
    imgs = torch.rand(10, 1, 28, 28)
    fig = plotting.image_grid(imgs, nrow=5, title="t")
    assert isinstance(fig, Figure) and fig._repr_png_().startswith(b"\x89PNG") and fig.axes[0].images[0].get_array().shape[:2] == (2 * 30 + 2, 5 * 30 + 2)
    assert len(plotting.image_row(imgs[:4], titles=list("abcd")).axes) == 4
    assert len(plotting.plot_feature_maps(torch.rand(12, 7, 7), ncols=4).axes) == 12
    assert len(plotting.plot_filters(torch.rand(8, 1, 3, 3)).axes) == 8
    fig = plotting.plot_confusion_matrix([0, 1, 1, 2], [0, 1, 2, 2], ["a", "b", "c"])
    assert fig.axes[0].images[0].get_array()[1, 1] == pytest.approx(0.5)
    h = train.History()
    h.epochs = [{"epoch": 1, "train_loss": 1.0, "val_acc": 0.5, "seconds": 1.0}, {"epoch": 2, "train_loss": 0.5, "val_acc": 0.7, "seconds": 1.0}]
    fig = plotting.plot_history(h)
    assert [ln.get_label() for ln in fig.axes[0].lines] == ["train_loss"] and [ln.get_label() for ln in fig.axes[1].lines] == ["val_acc"]


def test_plotting_bad_inputs():
    with pytest.raises(ValueError, match=r"\(B, H, W\) or \(B, C, H, W\)"):
        plotting.image_grid(torch.rand(28, 28))
    with pytest.raises(ValueError, match=r"\(C, H, W\)"):
        plotting.plot_feature_maps(torch.rand(7, 7))
    with pytest.raises(ValueError, match="History returned by train.fit"):
        plotting.plot_history(train.History())
    with pytest.raises(ValueError, match="equally long"):
        plotting.plot_confusion_matrix([0, 1], [0], ["a", "b"])


@pytest.fixture
def kernel_swap(monkeypatch):
    """Views as ipywidgets 7 (Colab) shows them: the kernel swaps the image (the kernel-free Stack is off)."""
    monkeypatch.setenv("COURSE_PRECOMPUTE", "0")


def test_frame_browser_swaps_precomputed_frames(kernel_swap):
    frames = [bytes([i]) * 10 for i in range(3)]
    view = widgets.frame_browser(frames, captions=["a", "b", "c"], play=True)
    assert view.image.value == frames[0] and list(view.controls) == ["play", "frame"]
    assert view.controls["play"].description == "play"  # Colab draws Play's icons blank: it needs a text label
    view.controls["frame"].value = 2
    assert view.image.value == frames[2] and "c" in view.caption.value
    assert view.widget.children[1] is view.image and view.widget.children[2] is view.caption
    with pytest.raises(ValueError, match="one per frame"):
        widgets.frame_browser(frames, captions=["a"])


def test_controls_view_updates_the_same_artist(kernel_swap):
    fig, ax = plotting.new_figure()
    (line,) = ax.plot([0, 1], [0, 0])
    calls = []

    def update(k):
        line.set_ydata([0, k])
        calls.append(k)
        return f"k = {k}"

    slider = ipywidgets.IntSlider(value=1, min=0, max=5)
    view = widgets.controls_view({"k": slider}, fig, update, precompute=False)
    first = view.image.value
    slider.value = 4
    assert calls == [1, 4] and view.image.value != first and "k = 4" in view.caption.value
    assert view.controls == {"k": slider} and view.figure is fig
    assert list(line.get_ydata()) == [0, 4] and len(ax.lines) == 1
    with pytest.raises(TypeError, match="matplotlib Figure"):
        widgets.figure_png("not a figure")


def test_controls_view_precomputes_small_discrete_spaces_and_caches_frames(kernel_swap, monkeypatch):
    fig, ax = plotting.new_figure()
    (line,) = ax.plot([0, 1], [0, 0])
    renders = []
    real_png = widgets.figure_png
    monkeypatch.setattr(widgets, "figure_png", lambda f, dpi=80: renders.append(1) or real_png(f, dpi))

    def update(k, flip, scale):
        line.set_ydata([0, (-k if flip else k) * scale])
        return f"{k} {flip} {scale}"

    controls = {"k": ipywidgets.IntSlider(value=1, min=0, max=2), "flip": ipywidgets.Checkbox(value=False),
                "scale": ipywidgets.FloatSlider(value=0.5, min=0.0, max=1.0, step=0.25)}
    box = widgets.controls_view(controls, fig, update)
    assert len(box.frames) == 3 * 2 * 5  # every combination rendered once
    n_renders = len(renders)
    controls["k"].value = 2
    controls["scale"].value = 0.75000000000001  # a float from the browser lands on the precomputed frame
    assert len(renders) == n_renders, "a precomputed setting must not be rendered again"
    assert box.image.value == box.frames[(("k", 2), ("flip", False), ("scale", 0.75))]
    assert "2 False 0.75" in box.caption.value and line.get_ydata()[1] == pytest.approx(1.5)
    # Too many combinations (or a continuous control): frames are rendered on demand, then cached.
    lazy = widgets.controls_view({"k": ipywidgets.IntSlider(value=0, min=0, max=100)}, fig, lambda k: None)
    assert len(lazy.frames) == 1
    with pytest.raises(ValueError, match="discrete controls"):
        widgets.controls_view({"t": ipywidgets.Text()}, fig, lambda t: None, precompute=True)


def test_control_values():
    assert widgets.control_values(ipywidgets.IntSlider(min=2, max=8, step=3)) == [2, 5, 8]
    assert widgets.control_values(ipywidgets.Dropdown(options=[("a", 1), ("b", 2)])) == [1, 2]
    assert widgets.control_values(ipywidgets.ToggleButtons(options=["x", "y"])) == ["x", "y"]
    assert widgets.control_values(ipywidgets.Text()) is None


def test_view_adds_named_parts_and_displays_its_widget(kernel_swap, monkeypatch):
    fig, ax = plotting.new_figure()
    ax.plot([0, 1])
    view = widgets.controls_view({"k": ipywidgets.IntSlider(value=0, min=0, max=2)}, fig, lambda k: None)
    button = ipywidgets.Button(description="resample")
    assert view.add("resample", button, where="top") is view
    assert view.widget.children[0] is button and view.parts == {"resample": button}
    with pytest.raises(ValueError, match="already has a part named 'resample'"):
        view.add("resample", ipywidgets.Button())
    with pytest.raises(ValueError, match="where must be 'top', 'after_controls' or 'bottom'"):
        view.add("other", ipywidgets.Button(), where="left")
    label = ipywidgets.Label("between")
    view.add("label", label, where="after_controls")
    children = list(view.widget.children)
    assert children.index(label) == children.index(view.image) - 1
    shown = []
    monkeypatch.setattr("IPython.display.display", lambda obj, **kw: shown.append(obj))
    view._ipython_display_()
    assert shown == [view.widget]


def test_plot_history_takes_any_mapping_of_lists():
    fig = plotting.plot_history({"train_loss": [3.0, 2.0, 1.5], "val_acc": [0.5, 0.6, 0.7]})
    loss_ax, metric_ax = fig.axes
    assert list(loss_ax.lines[0].get_xdata()) == [1, 2, 3] and list(metric_ax.lines[0].get_ydata()) == [0.5, 0.6, 0.7]
    with pytest.raises(ValueError, match="same, non-zero length"):
        plotting.plot_history({"train_loss": [1.0, 2.0], "val_loss": [1.0]})
    with pytest.raises(KeyError, match="not in the history"):
        plotting.plot_history({"train_loss": [1.0]}, keys=["val_loss"])


def test_confusion_matrix_refuses_labels_outside_the_classes():
    with pytest.raises(ValueError, match=r"y_true must hold integer labels 0..1"):
        plotting.plot_confusion_matrix([0, 1, 2], [0, 1, 1], ["a", "b"])  # label 2 has no class name
    with pytest.raises(ValueError, match=r"y_pred must hold integer labels"):
        plotting.plot_confusion_matrix([0, 1], [0, -1], ["a", "b"])
    fig = plotting.plot_confusion_matrix([0, 1, 1, 1], [0, 1, 0, 1], ["a", "b"], normalize=False)
    assert [t.get_text() for t in fig.axes[0].texts] == ["1", "1", "2"]  # counts, none dropped
