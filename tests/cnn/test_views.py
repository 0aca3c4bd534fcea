import itertools

import pytest
import torch
import torch.nn.functional as F

from course_utils.cnn import models, views


def test_output_size_matches_pytorch():
    for h, k, s, p, d in itertools.product([5, 9, 28], [1, 3, 4], [1, 2, 3], [0, 1, 2], [1, 2]):
        if h + 2 * p < d * (k - 1) + 1:
            continue
        truth = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        assert views.conv_output_size(h, k, s, p, d) == truth
    with pytest.raises(ValueError, match="kernel spans 5 pixels but the padded input has only 3"):
        views.conv_output_size(3, 5)
    with pytest.raises(ValueError, match="s must be an int >= 1"):
        views.conv_output_size(8, 3, s=0)


def test_explorer_redraws_when_a_slider_moves():
    box = views.conv_arithmetic_explorer()
    sliders = box.children[1].children
    before, caption = box.view.image.value, box.children[3].value
    sliders[1].value = 5  # kernel
    assert box.view.image.value != before and box.children[3].value != caption and "= 3" in box.children[3].value
    assert sliders[5].max == 3 * 3 - 1  # the position slider covers exactly the 3x3 outputs
    sliders[3].value = 0  # padding 0
    sliders[0].value = 3  # input 3 with kernel 5, no padding: no output, explained instead of an exception
    assert "no output" in box.children[3].value


def test_strip_and_diagram():
    fig = views.conv_arithmetic_strip(positions=(0, 3))
    assert len(fig.axes) == 2
    text = views.ConvDiagram().draw(7, 3, 2, 1, 1, position=8)
    assert "= 4" in text and "output (2, 0)" in text


def test_feature_maps_and_viewer():
    torch.manual_seed(0)
    cnn = models.FashionCNN()
    images = torch.rand(3, 1, 28, 28)
    layers = {"b1": cnn.features[1], "b3": cnn.features[3]}
    maps = views.collect_feature_maps(cnn, layers, images)
    assert maps["b1"].shape == (3, 32, 14, 14) and maps["b3"].shape == (3, 128, 3, 3)
    assert cnn.training  # mode restored
    box = views.feature_map_viewer(maps, images, ["a", "b", "c"])
    first = box.view.image.value
    box.children[0].children[0].value = 2
    second = box.view.image.value
    box.children[0].children[1].value = "b3"
    assert len({first, second, box.view.image.value}) == 3 and "128 channels" in box.children[2].value
    with pytest.raises(ValueError, match=r"\(B, C, H, W\)"):
        views.collect_feature_maps(cnn, layers, torch.rand(28, 28))
