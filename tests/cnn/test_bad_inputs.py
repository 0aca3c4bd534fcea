"""Bad input to chapter 01's public API is refused with one clear sentence that names the offending argument.

Each case is (id, call, exception type, argument the message must name). ``call(M, V)`` gets the ``models`` and
``views`` modules, so the same table can be run against another version of the package.
"""

import re

import pytest
import torch
import torch.nn as nn

from course_utils.cnn import models, recipe, views

torch.manual_seed(0)
IMAGES = torch.rand(3, 1, 28, 28)
TITLES = ["a", "b", "c"]


def _cnn(M):
    torch.manual_seed(0)
    return M.FashionCNN()


def _layers(cnn):
    return {"b1": cnn.features[1], "b3": cnn.features[3]}


def _maps(V, M):
    cnn = _cnn(M)
    return V.collect_feature_maps(cnn, _layers(cnn), IMAGES)


def _train(**changes):
    """recipe.train_classifier on 32 tiny images with one setting changed (one epoch, small batches)."""
    g = torch.Generator().manual_seed(0)
    X, y = torch.rand(32, 1, 28, 28, generator=g), torch.randint(0, 10, (32,), generator=g)
    args = dict(model=models.FashionCNN(channels=(4, 8, 8)), X=X, y=y, X_test=X[:16], y_test=y[:16], num_epochs=1,
                lr=0.01, batch_size=16, device="cpu", mixed_precision=False, verbose=False) | changes
    data = [args.pop(k) for k in ("model", "X", "y", "X_test", "y_test")]
    return recipe.train_classifier(*data, **args)


def _skips_a_layer():
    model = nn.Module()
    model.used, model.unused = nn.Conv2d(1, 2, 3), nn.Conv2d(1, 2, 3)
    model.forward = lambda x: model.used(x)
    return model


CASES = [
    # models.Normalize
    ("normalize-std-zero", lambda M, V: M.Normalize(std=0.0), ValueError, "std"),
    ("normalize-std-negative", lambda M, V: M.Normalize(std=-1.0), ValueError, "std"),
    ("normalize-mean-nan", lambda M, V: M.Normalize(mean=float("nan")), ValueError, "mean"),
    ("normalize-mean-str", lambda M, V: M.Normalize(mean="0.3"), ValueError, "mean"),
    ("normalize-0-255", lambda M, V: M.Normalize()(IMAGES * 255), ValueError, "x"),
    ("normalize-uint8", lambda M, V: M.Normalize()((IMAGES * 255).to(torch.uint8)), TypeError, "x"),
    ("normalize-nan", lambda M, V: M.Normalize()(torch.full((2, 1, 28, 28), float("nan"))), ValueError, "x"),
    ("normalize-empty", lambda M, V: M.Normalize()(torch.zeros(0, 1, 28, 28)), TypeError, "x"),
    ("normalize-list", lambda M, V: M.Normalize()([0.5, 0.5]), TypeError, "x"),
    # models.MLP
    ("mlp-one-hidden", lambda M, V: M.MLP(hidden_dims=(256,)), ValueError, "hidden_dims"),
    ("mlp-zero-width", lambda M, V: M.MLP(hidden_dims=(256, 0)), ValueError, "hidden_dims"),
    ("mlp-int-hidden", lambda M, V: M.MLP(hidden_dims=256), ValueError, "hidden_dims"),
    ("mlp-in-features-zero", lambda M, V: M.MLP(in_features=0), ValueError, "in_features"),
    ("mlp-num-classes-zero", lambda M, V: M.MLP(num_classes=0), ValueError, "num_classes"),
    ("mlp-dropout-one", lambda M, V: M.MLP(dropout=1.0), ValueError, "dropout"),
    ("mlp-dropout-negative", lambda M, V: M.MLP(dropout=-0.1), ValueError, "dropout"),
    ("mlp-32x32", lambda M, V: M.MLP()(torch.rand(2, 1, 32, 32)), ValueError, "x"),
    ("mlp-0-255", lambda M, V: M.MLP()(IMAGES * 255), ValueError, "x"),
    # models.conv_block
    ("conv-block-zero-in", lambda M, V: M.conv_block(0, 8), ValueError, "in_channels"),
    ("conv-block-float-out", lambda M, V: M.conv_block(1, 2.5), ValueError, "out_channels"),
    # models.FashionCNN
    ("cnn-two-channels", lambda M, V: M.FashionCNN(channels=(32, 64)), ValueError, "channels"),
    ("cnn-zero-channel", lambda M, V: M.FashionCNN(channels=(32, 0, 128)), ValueError, "channels"),
    ("cnn-num-classes-zero", lambda M, V: M.FashionCNN(num_classes=0), ValueError, "num_classes"),
    ("cnn-dropout", lambda M, V: M.FashionCNN(dropout=1.5), ValueError, "dropout"),
    ("cnn-rgb", lambda M, V: _cnn(M)(torch.rand(2, 3, 28, 28)), ValueError, "x"),
    ("cnn-32x32", lambda M, V: _cnn(M)(torch.rand(2, 1, 32, 32)), ValueError, "x"),
    ("cnn-no-batch-axis", lambda M, V: _cnn(M)(torch.rand(1, 28, 28)), ValueError, "x"),
    ("cnn-uint8", lambda M, V: _cnn(M)(torch.randint(0, 256, (2, 1, 28, 28), dtype=torch.uint8)), TypeError, "x"),
    ("cnn-embed-0-255", lambda M, V: _cnn(M).embed(IMAGES * 255), ValueError, "x"),
    ("cnn-embed-30x30", lambda M, V: _cnn(M).embed(torch.rand(2, 1, 30, 30)), ValueError, "x"),
    # views.conv_output_size and the conv-arithmetic view
    ("size-float-h", lambda M, V: V.conv_output_size(3.0, 3), ValueError, "h"),
    ("size-bool-stride", lambda M, V: V.conv_output_size(8, 3, s=True), ValueError, "s"),
    ("size-zero-kernel", lambda M, V: V.conv_output_size(8, 0), ValueError, "k"),
    ("size-kernel-too-big", lambda M, V: V.conv_output_size(3, 5), ValueError, "k"),
    ("view-size-off-slider", lambda M, V: V.conv_arithmetic_view(size=20), ValueError, "size"),
    ("view-zero-kernel", lambda M, V: V.conv_arithmetic_view(kernel=0), ValueError, "kernel"),
    ("view-float-stride", lambda M, V: V.conv_arithmetic_view(stride=1.5), ValueError, "stride"),
    ("view-negative-padding", lambda M, V: V.conv_arithmetic_view(padding=-1), ValueError, "padding"),
    ("figure-no-output", lambda M, V: V.conv_arithmetic_figure(size=3, kernel=5, padding=0), ValueError, "kernel"),
    ("figure-position-too-big", lambda M, V: V.conv_arithmetic_figure(positions=(0, 99)), ValueError, "positions"),
    ("figure-no-positions", lambda M, V: V.conv_arithmetic_figure(positions=()), ValueError, "positions"),
    ("figure-zero-dilation", lambda M, V: V.conv_arithmetic_figure(dilation=0), ValueError, "dilation"),
    ("diagram-negative-position", lambda M, V: V.ConvDiagram().draw(7, 3, 2, 1, 1, position=-1), ValueError, "position"),
    # views.collect_feature_maps
    ("maps-model-str", lambda M, V: V.collect_feature_maps("cnn", {}, IMAGES), TypeError, "model"),
    ("maps-no-layers", lambda M, V: V.collect_feature_maps(_cnn(M), {}, IMAGES), ValueError, "layers"),
    ("maps-foreign-layer", lambda M, V: V.collect_feature_maps(_cnn(M), {"c": nn.Conv2d(1, 1, 3)}, IMAGES),
     ValueError, "layers"),
    ("maps-unused-layer", lambda M, V: (lambda m: V.collect_feature_maps(m, {"u": m.unused}, IMAGES))(_skips_a_layer()),
     ValueError, "layers"),
    ("maps-3d-images", lambda M, V: (lambda c: V.collect_feature_maps(c, _layers(c), torch.rand(28, 28)))(_cnn(M)),
     ValueError, "images"),
    ("maps-empty-images", lambda M, V: (lambda c: V.collect_feature_maps(c, _layers(c), IMAGES[:0]))(_cnn(M)),
     ValueError, "images"),
    # views.feature_map_view
    ("fmv-few-titles", lambda M, V: V.feature_map_view(_maps(V, M), IMAGES, ["a"]), ValueError, "titles"),
    ("fmv-title-str", lambda M, V: V.feature_map_view(_maps(V, M), IMAGES, "abc"), ValueError, "titles"),
    ("fmv-odd-channels", lambda M, V: V.feature_map_view(_maps(V, M), IMAGES, TITLES, n_channels=7), ValueError,
     "n_channels"),
    ("fmv-too-many-channels", lambda M, V: V.feature_map_view(_maps(V, M), IMAGES, TITLES, n_channels=64), ValueError,
     "maps"),
    ("fmv-no-maps", lambda M, V: V.feature_map_view({}, IMAGES, TITLES), ValueError, "maps"),
    ("fmv-fewer-images", lambda M, V: V.feature_map_view(_maps(V, M), IMAGES[:2], TITLES[:2]), ValueError, "maps"),
    ("fmv-rgb-images", lambda M, V: V.feature_map_view(_maps(V, M), torch.rand(3, 3, 28, 28), TITLES), ValueError,
     "images"),
    ("fmv-3d-map", lambda M, V: V.feature_map_view({"b1": _maps(V, M)["b1"][0]}, IMAGES, TITLES), ValueError, "maps"),
    # recipe.train_classifier: the data, the model and the settings are checked before the first batch
    ("train-X-list", lambda M, V: _train(X=IMAGES.tolist()), TypeError, "X"),
    ("train-X-uint8", lambda M, V: _train(X=(torch.rand(32, 1, 28, 28) * 255).to(torch.uint8)), TypeError, "X"),
    ("train-X-no-channel-axis", lambda M, V: _train(X=torch.rand(32, 28, 28)), ValueError, "X"),
    ("train-X-empty", lambda M, V: _train(X=torch.rand(0, 1, 28, 28), y=torch.zeros(0, dtype=torch.long)), ValueError, "X"),
    ("train-X-nan", lambda M, V: _train(X=torch.full((32, 1, 28, 28), float("nan"))), ValueError, "X"),
    ("train-X-0-255", lambda M, V: _train(X=torch.rand(32, 1, 28, 28) * 255), ValueError, "X"),
    ("train-X_test-uint8", lambda M, V: _train(X_test=torch.zeros(16, 1, 28, 28, dtype=torch.uint8)), TypeError, "X_test"),
    ("train-X_test-none", lambda M, V: _train(X_test=None), TypeError, "X_test"),
    ("train-y-float", lambda M, V: _train(y=torch.zeros(32)), TypeError, "y"),
    ("train-y-short", lambda M, V: _train(y=torch.zeros(20, dtype=torch.long)), ValueError, "y"),
    ("train-y-one-hot", lambda M, V: _train(y=torch.eye(10, dtype=torch.long)[torch.arange(32) % 10]), ValueError, "y"),
    ("train-y-negative", lambda M, V: _train(y=-torch.ones(32, dtype=torch.long)), ValueError, "y"),
    ("train-y-more-classes", lambda M, V: _train(y=torch.arange(32)), ValueError, "model"),
    ("train-y_test-short", lambda M, V: _train(y_test=torch.zeros(8, dtype=torch.long)), ValueError, "y_test"),
    ("train-model-autoencoder", lambda M, V: _train(model=nn.Sequential(nn.Conv2d(1, 1, 3, padding=1))), ValueError, "model"),
    ("train-lr-inf", lambda M, V: _train(lr=float("inf")), ValueError, "lr"),
    ("train-weight-decay-negative", lambda M, V: _train(weight_decay=-1.0), ValueError, "weight_decay"),
    ("train-weight-decay-nan", lambda M, V: _train(weight_decay=float("nan")), ValueError, "weight_decay"),
    ("train-device-gpu", lambda M, V: _train(device="gpu"), ValueError, "device"),
    ("signed-filters-empty", lambda M, V: V.plot_filters_signed(torch.zeros(0, 1, 3, 3)), ValueError, "weight"),
    ("signed-filters-nan", lambda M, V: V.plot_filters_signed(torch.full((4, 1, 3, 3), float("nan"))), ValueError, "weight"),
    ("signed-filters-ncols-0", lambda M, V: V.plot_filters_signed(torch.ones(4, 1, 3, 3), ncols=0), ValueError, "ncols"),
    ("signed-filters-ncols-true", lambda M, V: V.plot_filters_signed(torch.ones(4, 1, 3, 3), ncols=True), ValueError, "ncols"),
    ("signed-filters-size-negative", lambda M, V: V.plot_filters_signed(torch.ones(4, 1, 3, 3), size=-1), ValueError, "size"),
    ("signed-filters-title-int", lambda M, V: V.plot_filters_signed(torch.ones(4, 1, 3, 3), title=3), TypeError, "title"),
]


@pytest.mark.parametrize("call, error, argument", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(call, error, argument):
    with pytest.raises(error) as info:
        call(models, views)
    message = str(info.value)
    assert re.search(rf"(?<![\w.]){re.escape(argument)}(?!\w)", message), f"the message does not name {argument!r}: {message}"
    assert len(message) < 300 and message.count("\n") == 0  # one sentence, not a traceback dump
