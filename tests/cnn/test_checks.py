import torch
import torch.nn as nn

from course_utils.cnn import checks, models


def reference_size(h, k, s=1, p=0, d=1):
    return (h + 2 * p - d * (k - 1) - 1) // s + 1


def test_output_size_check(capsys):
    assert checks.check_conv_output_size(reference_size)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_conv_output_size(lambda h, k, s=1, p=0, d=1: (h + 2 * p - k) / s + 1)
    assert "floor" in capsys.readouterr().out
    assert not checks.check_conv_output_size(lambda h, k, s=1, p=0, d=1: (h + 2 * p - k) // s + 1)
    assert "dilation" in capsys.readouterr().out
    assert not checks.check_conv_output_size(lambda h, k, s=1, p=0, d=1: (h + p - d * (k - 1) - 1) // s + 1)
    assert "both" in capsys.readouterr().out


def test_unsolved_answers_do_not_crash(capsys):
    def stub(*args):
        raise NotImplementedError

    assert not checks.check_conv_output_size(None)
    assert not checks.check_conv_output_size(stub)
    assert not checks.check_residual_block(None)
    assert not checks.check_strided_cnn(None)
    out = capsys.readouterr().out
    assert out.count("NOT YET") == 4 and "not yet solved" in out


class Good(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.f = nn.Sequential(nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c), nn.ReLU(), nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c))

    def forward(self, x):
        return torch.relu(x + self.f(x))


class NoSkip(Good):
    def forward(self, x):
        return torch.relu(self.f(x))


class ReluInside(Good):
    def forward(self, x):
        return x + torch.relu(self.f(x))


def test_residual_check(capsys):
    assert checks.check_residual_block(Good)
    assert not checks.check_residual_block(NoSkip)
    assert "never added back" in capsys.readouterr().out
    assert not checks.check_residual_block(ReluInside)
    assert "ReLU after adding" in capsys.readouterr().out


def test_strided_check(capsys):
    pooled = models.FashionCNN()
    assert not checks.check_strided_cnn(pooled)
    assert "pooling layer" in capsys.readouterr().out

    def conv(i, o):
        return [nn.Conv2d(i, o, 3, stride=2, padding=1), nn.BatchNorm2d(o), nn.ReLU()]

    strided = nn.Sequential(*conv(1, 32), *conv(32, 64), *conv(64, 128), nn.Flatten(), nn.LazyLinear(10))
    strided(torch.zeros(1, 1, 28, 28))
    assert checks.check_strided_cnn(strided, pooled)
    assert "PASSED" in capsys.readouterr().out
