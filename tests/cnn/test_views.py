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
    fig = views.conv_arithmetic_figure(positions=(0, 3))
    assert [ax.get_title() for ax in fig.axes] == ["output position 0", "output position 3"]
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
