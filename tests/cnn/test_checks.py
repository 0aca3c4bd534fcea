"""Chapter 01's exercise checks: right answers pass, listed mistakes get their hint, other wrong answers are
refused too (so a check that stopped comparing with the truth fails here), and malformed answers never crash."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

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


@pytest.mark.parametrize("wrong", [
    lambda h, k, s=1, p=0, d=1: (h + 2 * p - d * (k - 1) - 1) // s,      # forgot the + 1 (the first window)
    lambda h, k, s=1, p=0, d=1: h + 2 * p - d * (k - 1),                 # ignores the stride
    lambda h, k, s=1, p=0, d=1: (h + 2 * p - d * k) // s + 1,            # the kernel spans d*k pixels
    lambda h, k, s=1, p=0, d=1: -(-(h + 2 * p - d * (k - 1) - 1) // s) + 1,  # ceiling instead of floor
], ids=["no_plus_one", "no_stride", "span_dk", "ceiling"])
def test_output_size_check_refuses_unlisted_wrong_formulas(wrong, capsys):
    assert not checks.check_conv_output_size(wrong)
    assert "PyTorch gives" in capsys.readouterr().out


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


class ReluOnTheSkip(Good):  # relu(x) + F(x): equals relu(x) when F = 0
    def forward(self, x):
        return torch.relu(x) + self.f(x)


class ReluInsideBranch(Good):  # relu(x + relu(F(x))): equals relu(x) when F = 0
    def forward(self, x):
        return torch.relu(x + torch.relu(self.f(x)))


class OneConv(nn.Module):
    def __init__(self, c):
        super().__init__()
        self.conv, self.bn = nn.Conv2d(c, c, 3, padding=1), nn.BatchNorm2d(c)

    def forward(self, x):
        return torch.relu(x + self.bn(self.conv(x)))


def test_residual_check(capsys):
    assert checks.check_residual_block(Good)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_residual_block(NoSkip)
    assert "never added back" in capsys.readouterr().out
    assert not checks.check_residual_block(ReluInside)
    assert "ReLU after adding" in capsys.readouterr().out
    assert not checks.check_residual_block(OneConv)
    assert "two 3×3 convolutions" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [ReluOnTheSkip, ReluInsideBranch])
def test_residual_check_refuses_blocks_that_only_agree_when_f_is_zero(wrong, capsys):
    assert not checks.check_residual_block(wrong)
    assert "relu(x - 0.5)" in capsys.readouterr().out


def strided_cnn(last_padding=0):
    def conv(i, o, padding=1):
        return [nn.Conv2d(i, o, 3, stride=2, padding=padding), nn.BatchNorm2d(o), nn.ReLU()]

    return nn.Sequential(models.Normalize(), *conv(1, 32), *conv(32, 64), *conv(64, 128, last_padding),
                         nn.Flatten(), nn.Linear(128 * (3 if last_padding == 0 else 4) ** 2, 10))


class FunctionalPooling(nn.Module):
    """Stride-2 convs *and* F.max_pool2d in forward: no pooling layer to find, but it downsamples twice per block."""

    def __init__(self):
        super().__init__()
        self.convs = nn.ModuleList(nn.Conv2d(i, o, 3, stride=2, padding=1) for i, o in [(1, 32), (32, 64), (64, 128)])
        self.head = nn.LazyLinear(10)

    def forward(self, x):
        for conv in self.convs:
            x = F.max_pool2d(torch.relu(conv(x)), 2, ceil_mode=True)
        return self.head(x.flatten(1))


def test_strided_check(capsys):
    pooled = models.FashionCNN()
    assert not checks.check_strided_cnn(pooled)
    assert "pooling layer" in capsys.readouterr().out
    model = strided_cnn().train()
    assert checks.check_strided_cnn(model, pooled)
    assert "PASSED" in capsys.readouterr().out
    assert model.training  # the check left the learner's model in the mode it had
    assert not checks.check_strided_cnn(strided_cnn(last_padding=1))  # ends at 4x4
    assert "28 → 14 → 7 → 4" in (out := capsys.readouterr().out) and "padding=0 in the last block" in out


def test_strided_check_refuses_unlisted_ways_to_downsample(capsys):
    assert not checks.check_strided_cnn(FunctionalPooling())
    assert "28 → 14 → 4 → 1" in capsys.readouterr().out
    two = nn.Sequential(nn.Conv2d(1, 8, 3, stride=2, padding=1), nn.Conv2d(8, 8, 3, stride=2, padding=1),
                        nn.Conv2d(8, 8, 3, padding=1), nn.Flatten(), nn.Linear(8 * 49, 10))
    assert not checks.check_strided_cnn(two)
    assert "only 2 conv layer(s) have stride 2" in capsys.readouterr().out
    wrong_classes = nn.Sequential(*list(strided_cnn())[:-1], nn.Linear(128 * 9, 5))
    assert not checks.check_strided_cnn(wrong_classes)
    assert "logits (2, 10), got (2, 5)" in capsys.readouterr().out


class Raises(nn.Module):
    def __init__(self, c=8):
        super().__init__()
        self.a, self.b = nn.Conv2d(c, c, 3, padding=1), nn.Conv2d(c, c, 3, padding=1)
        self.na, self.nb = nn.BatchNorm2d(c), nn.BatchNorm2d(c)

    def forward(self, x):
        raise ZeroDivisionError("oops")


class ReturnsTuple(Raises):
    def forward(self, x):
        return x, x


class NoPadding(Raises):
    def forward(self, x):
        return torch.relu(self.nb(nn.functional.conv2d(x, self.b.weight)))


class InitFails(nn.Module):
    def __init__(self, c):
        raise ValueError("bad init")


def _strided_returning(value):
    class M(nn.Module):
        def __init__(self):
            super().__init__()
            self.body = nn.Sequential(*strided_cnn()[:-2])

        def forward(self, x):
            self.body(x)
            if isinstance(value, Exception):
                raise value
            return value

    return M()


MALFORMED = [
    ("size", 5), ("size", "h + 2p"), ("size", lambda h: h), ("size", lambda h, k, s=1, p=0, d=1: None),
    ("size", lambda h, k, s=1, p=0, d=1: "3"), ("size", lambda h, k, s=1, p=0, d=1: torch.tensor([3, 3])),
    ("size", lambda h, k, s=1, p=0, d=1: 1 // 0), ("size", lambda h, k, s=1, p=0, d=1: True),
    ("strided", "model"), ("strided", nn.Sequential), ("strided", nn.Linear(784, 10)), ("strided", Raises()),
    ("strided", _strided_returning((1, 2))), ("strided", _strided_returning(torch.zeros(2, 10, 1))),
    ("strided", _strided_returning(RuntimeError("mat1 and mat2 shapes cannot be multiplied"))),
    ("residual", Good(8)), ("residual", 3), ("residual", lambda c: "block"), ("residual", InitFails),
    ("residual", Raises), ("residual", ReturnsTuple), ("residual", NoPadding), ("residual", nn.Identity),
]


@pytest.mark.parametrize("which, answer", MALFORMED, ids=[f"{w}-{i}" for i, (w, _) in enumerate(MALFORMED)])
def test_malformed_answers_print_a_hint_and_never_crash(which, answer, capsys):
    check = {"size": checks.check_conv_output_size, "strided": checks.check_strided_cnn,
             "residual": checks.check_residual_block}[which]
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("NOT YET - ") and out.count("\n") == 1 and len(out) > 40
