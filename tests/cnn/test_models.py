"""Chapter 01's models: the diagrams they promise, the checkpoint they must keep loading, their input contract."""

import pytest
import torch

from course_utils import checkpoints, data, train
from course_utils.cnn import models

FASHION_CNN_KEYS = [
    "features.1.0.weight", "features.1.1.weight", "features.1.1.bias", "features.1.1.running_mean",
    "features.1.1.running_var", "features.1.1.num_batches_tracked",
    "features.2.0.weight", "features.2.1.weight", "features.2.1.bias", "features.2.1.running_mean",
    "features.2.1.running_var", "features.2.1.num_batches_tracked",
    "features.3.0.weight", "features.3.1.weight", "features.3.1.bias", "features.3.1.running_mean",
    "features.3.1.running_var", "features.3.1.num_batches_tracked",
    "classifier.2.weight", "classifier.2.bias",
]


def test_fashion_cnn_keeps_the_checkpoint_keys_and_loads_the_shipped_classifier():
    model = models.FashionCNN()
    assert list(model.state_dict()) == FASHION_CNN_KEYS  # the `fashion_classifier` checkpoint's keys
    checkpoints.load_checkpoint(model, checkpoints.checkpoint_path("fashion_classifier"))
    ds = data.load_fashion_mnist(n_train=100, n_test=500)
    accuracy = (train.predict(model, ds.X_test).argmax(1) == ds.y_test).float().mean().item()
    assert accuracy > 0.85


def test_fashion_cnn_shapes_and_embedding():
    torch.manual_seed(0)
    cnn = models.FashionCNN(channels=(4, 8, 16), num_classes=5).eval()
    x = torch.rand(2, 1, 28, 28)
    shapes = [tuple(cnn.features[: i + 1](x).shape) for i in range(1, 4)]
    assert shapes == [(2, 4, 14, 14), (2, 8, 7, 7), (2, 16, 3, 3)]
    with torch.no_grad():
        assert cnn.embed(x).shape == (2, 16 * 9)
        assert torch.equal(cnn(x), cnn.classifier(cnn.features(x)))  # forward = classifier on the embedding


def test_conv_block_halves_the_image():
    block = models.conv_block(in_channels=3, out_channels=5)
    assert block(torch.rand(2, 3, 10, 10)).shape == (2, 5, 5, 5)
    assert block[0].bias is None  # batch norm has the bias


def test_mlp_is_784_256_128_10():
    mlp = models.MLP(hidden_dims=(256, 128))
    widths = [(m.in_features, m.out_features) for m in mlp.modules() if isinstance(m, torch.nn.Linear)]
    assert widths == [(784, 256), (256, 128), (128, 10)]
    assert list(mlp.state_dict()) == [f"net.{i}.{p}" for i in (2, 5, 8) for p in ("weight", "bias")]
    assert train.count_parameters(mlp) == 784 * 256 + 256 + 256 * 128 + 128 + 128 * 10 + 10
    assert mlp(torch.rand(3, 1, 28, 28)).shape == (3, 10)


def test_normalize_standardizes_and_refuses_unscaled_pixels():
    norm = models.Normalize()
    x = torch.tensor([[0.0, models.FASHION_MEAN, 1.0]])
    assert torch.allclose(norm(x), (x - 0.2860) / 0.3530)
    with pytest.raises(ValueError, match="divide 0..255 images by 255"):
        norm(x * 255)
    with pytest.raises(ValueError, match="pixels in \\[0, 1\\]"):
        norm(torch.tensor([0.5, float("nan")]))
