"""Chapter 01's training recipe, the VGG-style model, and the checks of exercises 1 ('same' padding) and 3
(downsampling residual block): right answers pass, named mistakes get their hint, bad inputs are refused."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.cnn import checks, models, recipe


def _tiny_data(n=64, seed=0):
    g = torch.Generator().manual_seed(seed)
    return torch.rand(n, 1, 28, 28, generator=g), torch.randint(0, 10, (n,), generator=g)


def test_recipe_reports_the_smoothed_test_loss_of_the_weights_it_returns():
    X, y = _tiny_data()
    torch.manual_seed(0)
    model = models.FashionCNN(channels=(4, 8, 8))
    history = recipe.train_classifier(model, X, y, X[:32], y[:32], num_epochs=2, lr=0.05, batch_size=16, device="cpu",
                                      mixed_precision=False, verbose=False)
    assert len(history) == 2 and {"train_loss", "train_acc", "val_loss", "val_acc"} <= set(history.keys())
    with torch.no_grad():  # the last epoch's weights are kept (the test set picks nothing), smoothing 0.1
        expected = F.cross_entropy(model(X[:32].contiguous(memory_format=torch.channels_last)), y[:32], label_smoothing=0.1)
    assert history["val_loss"][-1] == pytest.approx(expected.item(), rel=1e-4)
    assert not model.training


def test_recipe_runs_forward_passes_in_bfloat16_only_when_asked():
    X, y = _tiny_data(32)
    for mixed, dtype in ((True, torch.bfloat16), (False, torch.float32)):
        model = models.FashionCNN(channels=(4, 8, 8))
        seen = []
        model.classifier[2].register_forward_hook(lambda m, i, o, seen=seen: seen.append(o.dtype))
        recipe.train_classifier(model, X, y, X, y, num_epochs=1, lr=0.01, batch_size=16, device="cpu",
                                mixed_precision=mixed, verbose=False)
        assert seen and all(d == dtype for d in seen)
    assert isinstance(recipe.bf16_supported(), bool)


@pytest.mark.parametrize("kwargs, message", [
    (dict(num_epochs=0), "num_epochs must be a positive int"),
    (dict(lr=-1.0), "lr must be a positive number"),
    (dict(batch_size=2.5), "batch_size must be a positive int"),
    (dict(mixed_precision="yes"), "mixed_precision must be True, False or 'auto'"),
    (dict(label_smoothing=1.0), r"label_smoothing must be in \[0, 1\)"),
    (dict(transform=3), "transform must be a function"),
])
def test_recipe_refuses_bad_settings(kwargs, message):
    X, y = _tiny_data(16)
    settings = dict(num_epochs=1, lr=0.1, batch_size=8, device="cpu") | kwargs
    with pytest.raises((ValueError, TypeError), match=message):
        recipe.train_classifier(models.FashionCNN(), X, y, X, y, **settings)


def same_padding(k, d=1):
    return d * (k - 1) // 2 if d * (k - 1) % 2 == 0 else None


def test_same_padding_check(capsys):
    assert checks.check_same_padding(same_padding)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_same_padding(lambda k, d=1: None if (k - 1) % 2 else (k - 1) // 2)  # forgot the dilation
    assert "answer without dilation" in capsys.readouterr().out
    assert not checks.check_same_padding(lambda k, d=1: d * (k - 1) / 2)  # a float (and no None case)
    out = capsys.readouterr().out
    assert "return None" in out or "float" in out
    assert not checks.check_same_padding(lambda k, d=1: d * (k - 1) // 2)  # never None: even spans have no 'same'
    assert "return None" in capsys.readouterr().out
    assert not checks.check_same_padding(lambda k, d=1: None if d * (k - 1) % 2 else d * (k - 1))  # twice too much
    assert "should be" in capsys.readouterr().out
    assert not checks.check_same_padding(lambda k, d=1: None if d * (k - 1) % 2 else -(d * (k - 1) // 2))  # sign flipped
    out = capsys.readouterr().out
    assert "check the sign" in out and "raised" not in out


class DownBlock(nn.Module):
    def __init__(self, c, shortcut_stride=2, final_relu=True, project=True):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1, bias=False), nn.BatchNorm2d(2 * c), nn.ReLU(),
                               nn.Conv2d(2 * c, 2 * c, 3, padding=1, bias=False), nn.BatchNorm2d(2 * c))
        self.shortcut = nn.Sequential(nn.Conv2d(c, 2 * c, 1, stride=shortcut_stride, bias=False), nn.BatchNorm2d(2 * c))
        self.final_relu, self.project = final_relu, project

    def forward(self, x):
        out = self.f(x) + self.shortcut(x) if self.project else self.f(x)
        return torch.relu(out) if self.final_relu else out


def test_down_block_check_passes_the_solution_and_names_mistakes(capsys):
    assert checks.check_down_block(DownBlock)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_down_block(lambda c: DownBlock(c, shortcut_stride=1))
    assert "stride=2" in capsys.readouterr().out
    assert not checks.check_down_block(lambda c: DownBlock(c, final_relu=False))
    assert "without the final ReLU" in capsys.readouterr().out
    assert not checks.check_down_block(lambda c: DownBlock(c, project=False))
    assert "shortcut is never added" in capsys.readouterr().out
    assert not checks.check_down_block(DownBlock(8))
    assert "pass the class itself" in capsys.readouterr().out
    assert not checks.check_down_block(lambda in_channels, out_channels: DownBlock(in_channels))  # two arguments
    out = capsys.readouterr().out
    assert "DownBlock(8) raised TypeError" in out and "one argument, in_channels" in out

    class NoProjection(nn.Module):
        def __init__(self, c):
            super().__init__()
            self.f = nn.Sequential(nn.Conv2d(c, 2 * c, 3, stride=2, padding=1), nn.BatchNorm2d(2 * c))

        def forward(self, x):
            return torch.relu(x + self.f(x))

    assert not checks.check_down_block(NoProjection)
    assert "no 1×1 convolution" in capsys.readouterr().out
