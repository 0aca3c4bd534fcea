"""Chapter 01's views: they show the setting their controls name, by named fields, and fail clearly."""

import itertools

import ipywidgets as w
import numpy as np
import pytest
import torch
import torch.nn.functional as F

from course_utils.cnn import models, views
from course_utils.widgets import figure_png


def test_output_size_matches_pytorch():
    for h, k, s, p, d in itertools.product([5, 9, 28], [1, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2]):
        if h + 2 * p < d * (k - 1) + 1:
            continue
        truth = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        assert views.conv_output_size(h, k, s, p, d) == truth
    with pytest.raises(ValueError, match=r"kernel \(k=5, d=1\) spans 5 pixels but the padded input \(h \+ 2p\) has only 3"):
        views.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="s must be an int >= 1"):
        views.conv_output_size(8, 3, s=0)


def test_conv_view_shows_the_setting_of_its_sliders():
    view = views.conv_arithmetic_view(size=7, kernel=3, stride=2, padding=1, dilation=1)
    play = next(c for c in view.parts["play"].children if isinstance(c, w.Play))
    assert view.widget.children[0] is view.parts["play"]  # the play button sits above the sliders
    start_png, start_caption = view.image.value, view.caption.value
    assert "= 4;" in start_caption and view.figure.axes[1].get_title() == "output 4×4"
    view.controls["kernel"].value = 5
    assert view.image.value != start_png and "= 3;" in view.caption.value
    assert view.figure.axes[1].get_title() == "output 3×3"
    assert view.controls["position"].max == play.max == 3 * 3 - 1  # position and play cover exactly the outputs
    view.controls["kernel"].value = 3
    assert view.image.value == start_png and view.caption.value == start_caption  # back to the first frame
    view.controls["position"].value = 5  # row-major in a 4x4 output: row 1, column 1
    assert "output (1, 1) reads rows 2–4, cols 2–4" in view.caption.value
    assert view.image.value == figure_png(view.figure)  # the image is the figure at this setting
    view.controls["padding"].value = 0
    view.controls["size"].value = 3  # a 1x1 output: the position is clamped to 0
    assert view.controls["position"].value == 0 and "output (0, 0)" in view.caption.value
    view.controls["kernel"].value = 5  # input 3 with kernel 5, no padding: explained instead of an exception
    assert "no output" in view.caption.value


def test_conv_figure_and_diagram():
    fig = views.conv_arithmetic_figure(positions=(0, 3, 4))
    titles = [ax.get_title() for ax in fig.axes]
    assert titles[0].startswith("output (0, 0) = position 0") and "reads rows 0–2, cols 0–2" in titles[0]
    assert titles[1].startswith("output (0, 3)") and "cols 6–8" in titles[1]
    assert titles[2].startswith("output (1, 0) = position 4") and "reads rows 2–4" in titles[2]  # a row change
    assert "= 4" in fig.texts[-1].get_text()  # the formula caption with these numbers
    hatched = [p for p in fig.axes[0].patches if p.get_hatch()]
    assert len(hatched) == 9 * 9 - 7 * 7  # the padded cells of a 7x7 input padded to 9x9
    text = views.ConvDiagram().draw(7, 3, 2, 1, 1, position=8)
    assert "= 4" in text and "output (2, 0)" in text
    with pytest.raises(ValueError, match="position must be an int in 0..15"):
        views.ConvDiagram().draw(7, 3, 2, 1, 1, position=16)


@pytest.fixture
def feature_maps():
    torch.manual_seed(0)
    cnn = models.FashionCNN()
    images = torch.rand(3, 1, 28, 28)
    return cnn, images, views.collect_feature_maps(cnn, {"b1": cnn.features[1], "b3": cnn.features[3]}, images)


def _shown(view):
    """What the figure behind the view draws now: the image, its title and the first map."""
    ax_img, ax_map = view.figure.axes[0], view.figure.axes[1]
    return ax_img.images[0].get_array(), ax_img.get_title(), ax_map.images[0].get_array()


def test_feature_map_view_is_left_at_the_current_setting_after_precomputing(feature_maps):
    _, images, maps = feature_maps
    view = views.feature_map_view(maps, images, ["a", "b", "c"])
    assert len(view.frames) == 3 * 2  # every (image, layer) pair was rendered up front ...
    image, title, first_map = _shown(view)  # ... and the figure is back at image 0, layer b1 (not image 2, b3)
    assert title == "a" and np.array_equal(image, images[0, 0].numpy())
    assert np.allclose(first_map, maps["b1"][0, 0].numpy())
    assert view.image.value == figure_png(view.figure)


def test_feature_map_view_keeps_images_titles_and_maps_aligned(feature_maps):
    _, images, maps = feature_maps
    view = views.feature_map_view(maps, images, ["a", "b", "c"])
    first = view.image.value
    view.controls["index"].value = 2
    image, title, first_map = _shown(view)
    assert title == "c" and np.array_equal(image, images[2, 0].numpy())
    assert np.allclose(first_map, maps["b1"][2, 0].numpy()) and "b1: 32 channels of 14×14" in view.caption.value
    second = view.image.value
    view.controls["layer"].value = "b3"
    assert np.allclose(_shown(view)[2], maps["b3"][2, 0].numpy()) and "b3: 128 channels of 3×3" in view.caption.value
    assert len({first, second, view.image.value}) == 3
    assert view.image.value == figure_png(view.figure)
    view.controls["index"].value = 0
    view.controls["layer"].value = "b1"
    assert view.image.value == first


def test_feature_maps_are_collected_in_eval_mode_and_the_mode_is_restored(feature_maps):
    cnn, images, maps = feature_maps
    assert maps["b1"].shape == (3, 32, 14, 14) and maps["b3"].shape == (3, 128, 3, 3)
    assert cnn.training  # mode restored
    bn = cnn.features[1][1]
    stats = bn.running_mean.clone()
    again = views.collect_feature_maps(cnn, {"b1": cnn.features[1]}, images)["b1"]
    assert torch.equal(bn.running_mean, stats)  # train mode would have updated the batch-norm statistics
    cnn.eval()
    with torch.no_grad():
        expected = cnn.features[:2](images)  # Normalize, block 1, with the running statistics
    assert torch.allclose(again, expected) and torch.allclose(maps["b1"], expected)


def test_receptive_field_of_the_chapter_cnn_and_bad_layers():
    # conv3, pool2, conv3, pool2, conv3, pool2: 3, 4, 8, 10, 18, 22 pixels; jumps 1, 2, 2, 4, 4, 8
    fields = views.receptive_field([(3, 1), (2, 2)] * 3)
    assert fields == [(3, 1), (4, 2), (8, 2), (10, 4), (18, 4), (22, 8)]
    assert views.receptive_field([(3, 1, 2), (3, 1, 4)]) == [(5, 1), (13, 1)]  # dilation widens the kernel
    assert views.receptive_field([(3, 2), (3, 1)]) == [(3, 2), (7, 2)]  # a stride widens every later layer
    with pytest.raises(ValueError, match="layers must be a non-empty list"):
        views.receptive_field([])
    with pytest.raises(ValueError, match=r"layers\[1\] must be"):
        views.receptive_field([(3, 1), (0, 1)])


def test_receptive_field_figure_draws_one_square_per_field():
    fig = views.receptive_field_figure(torch.zeros(1, 28, 28), {"block 1": 4, "block 3": 22})
    squares = [p for p in fig.axes[0].patches]
    assert [p.get_width() for p in squares] == [4, 22] and squares[1].get_xy() == (3.0, 3.0)
    with pytest.raises(ValueError, match="image must be one grey image"):
        views.receptive_field_figure(torch.zeros(28, 28), {"a": 3})


def test_signed_filters_share_one_symmetric_scale():
    w = torch.zeros(4, 1, 3, 3)
    w[0, 0, 0, 0], w[1, 0, 1, 1] = 2.0, -0.5
    fig = views.plot_filters_signed(w, ncols=4)
    ims = [ax.images[0] for ax in fig.axes if ax.images]
    assert all(im.get_clim() == (-2.0, 2.0) for im in ims)  # not rescaled per filter: signs and sizes comparable
    with pytest.raises(ValueError, match="weight must be a conv weight"):
        views.plot_filters_signed(torch.zeros(4, 3, 3))


def test_feature_map_grid_shares_the_scale_within_each_row(feature_maps):
    _, _, maps = feature_maps
    fig = views.plot_feature_map_grid(maps, index=1, n_channels=4)
    rows = [[ax.images[0] for ax in fig.axes[i * 4:(i + 1) * 4]] for i in range(2)]
    for row, m in zip(rows, maps.values()):
        lo, hi = float(m[1, :4].min()), float(m[1, :4].max())
        assert all(abs(im.get_clim()[0] - lo) < 1e-6 and abs(im.get_clim()[1] - hi) < 1e-4 for im in row)
    with pytest.raises(ValueError, match="with image 5 in it"):
        views.plot_feature_map_grid(maps, index=5)
