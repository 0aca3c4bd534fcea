import pytest
import torch
import torch.nn as nn

from course_utils.autoencoders import checks, models


class Pooled(nn.Module):
    """The exercise's answer (pool=True), with the variants a learner might write."""

    def __init__(self, pool=True, padding=1, use_pools=True, forward_copies=False):
        super().__init__()
        down = [nn.MaxPool2d(2)] if pool else [nn.AvgPool2d(2)]
        side = 28 if padding else 5  # 28 -> 26 -> 13 -> 11 -> 5 without padding
        if use_pools:
            self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, padding=padding), nn.ReLU(), *down,
                                         nn.Conv2d(4, 8, 3, padding=padding), nn.ReLU(), *down,
                                         nn.Flatten(), nn.Linear(8 * (7 if padding else side) ** 2, 6))
        else:  # the pools are built but encode skips them, and a linear layer on the full map does the rest
            self.encoder = nn.ModuleDict({"convs": nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), nn.Flatten(),
                                                                 nn.Linear(4 * 784, 6)),
                                          "pools": nn.ModuleList([nn.MaxPool2d(2), nn.MaxPool2d(2)])})
        self.use_pools, self.forward_copies = use_pools, forward_copies
        self.decoder = models.ConvAutoencoder(6, (4, 8)).decoder

    def encode(self, x):
        return self.encoder(x) if self.use_pools else self.encoder["convs"](x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return x if self.forward_copies else self.decode(self.encode(x))


def test_pooled_autoencoder_check(capsys):
    assert checks.check_pooled_autoencoder(Pooled())
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(models.ConvAutoencoder(8))
    assert "stride > 1" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(Pooled(pool=False))
    assert "0 max-pool" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(nn.Sequential(nn.MaxPool2d(2)))
    assert "method `encode`" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    {"padding": 0},            # convs shrink the map: the pools see 26x26 and 11x11
    {"use_pools": False},      # two max pools in the model, but encode never runs them
    {"forward_copies": True},  # forward returns its input: right shape, right range, and nothing learned
])
def test_pooled_check_refuses_wrong_models_it_has_no_special_hint_for(wrong, capsys):
    assert not checks.check_pooled_autoencoder(Pooled(**wrong))
    assert "NOT YET" in capsys.readouterr().out


def test_hourglass_check(capsys):
    assert checks.check_hourglass(lambda d: tuple(256 // 2**i for i in range(d)))
    assert not checks.check_hourglass(lambda d: tuple(256 - 64 * i for i in range(d)))
    assert "halve" in capsys.readouterr().out
    assert not checks.check_hourglass(lambda d: (256,) * (d + 1))
    assert "()" in capsys.readouterr().out


def test_hourglass_check_refuses_an_answer_wrong_only_at_depth_4(capsys):
    assert not checks.check_hourglass(lambda d: tuple(256 // 2**i for i in range(d)) if d < 4 else (256, 128, 64, 64))
    out = capsys.readouterr().out
    assert "NOT YET" in out and "hourglass(4)" in out


def test_latent_arithmetic_check(capsys):
    assert checks.check_latent_arithmetic(lambda m, a, b, c: m.decode(m.encode(a) - m.encode(b) + m.encode(c)))
    assert not checks.check_latent_arithmetic(lambda m, a, b, c: m.decode(m.encode(a) - m.encode(c) + m.encode(b)))
    assert "swapped" in capsys.readouterr().out
    assert not checks.check_latent_arithmetic(lambda m, a, b, c: a - b + c)
    assert "on the images" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda m, a, b, c: m.decode(m.encode(a - b + c)),                    # the arithmetic on the images, then a round trip
    lambda m, a, b, c: m.decode(m.encode(b) - m.encode(a) + m.encode(c)),  # a and b swapped
    lambda m, a, b, c: m.decode(m.encode(a) - m.encode(b)),                # c forgotten
])
def test_latent_arithmetic_check_refuses_wrong_answers_it_has_no_special_hint_for(wrong, capsys):
    assert not checks.check_latent_arithmetic(wrong)
    assert "differs from decode(encode(a) - encode(b) + encode(c))" in capsys.readouterr().out


def test_unsolved_answers_do_not_crash(capsys):
    def stub(*args):
        raise NotImplementedError

    assert not checks.check_pooled_autoencoder(None)
    assert not checks.check_hourglass(stub)
    assert not checks.check_latent_arithmetic(stub)
    out = capsys.readouterr().out
    assert out.count("NOT YET") == 3 and out.count("not yet solved") == 3
    assert not checks.check_hourglass(None)
    assert "define hourglass(depth)" in capsys.readouterr().out  # a missing answer is told what to define


class _Broken(Pooled):
    def encode(self, x):
        return x.view(3, -1)  # raises inside the learner's code


class _NotAModule:
    encoder = nn.Sequential(nn.MaxPool2d(2), nn.MaxPool2d(2))

    def encode(self, x):
        return x

    def decode(self, z):
        return z


@pytest.mark.parametrize("check,answer,hint", [
    (checks.check_pooled_autoencoder, "a model", "method `decode`"),  # a str has .encode, not .decode
    (checks.check_pooled_autoencoder, _Broken(), "RuntimeError"),
    (checks.check_pooled_autoencoder, _NotAModule(), "nn.Module"),
    (checks.check_hourglass, 256, "TypeError"),
    (checks.check_hourglass, lambda d: 256, "return a tuple"),
    (checks.check_hourglass, lambda d: 1 / 0, "ZeroDivisionError"),
    (checks.check_latent_arithmetic, "a - b + c", "TypeError"),
    (checks.check_latent_arithmetic, lambda m, a, b, c: [1, 2], "shape (3, 6); got list"),
    (checks.check_latent_arithmetic, lambda m, a, b, c: torch.zeros(2, 6), "shape (3, 6); got (2, 6)"),
    (checks.check_latent_arithmetic, lambda m, a, b: a, "TypeError"),
])
def test_malformed_answers_print_a_hint_and_never_crash(check, answer, hint, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("NOT YET") and hint in out and out.count("\n") == 1
