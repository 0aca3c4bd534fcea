"""The chapter 04 exercise checks accept right answers, explain the usual wrong ones, refuse other wrong ones, and
never crash on a malformed answer."""

import math

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.gan import checks, evaluation, models

sn = nn.utils.parametrizations.spectral_norm


def test_non_saturating_loss_check(capsys):
    assert checks.check_non_saturating_loss(lambda x: F.softplus(-x).mean())
    assert checks.check_non_saturating_loss(lambda x: -F.logsigmoid(x).mean())
    assert not checks.check_non_saturating_loss(lambda x: -torch.log(torch.sigmoid(x)).mean())  # -inf at -200
    assert "not finite" in capsys.readouterr().out
    assert not checks.check_non_saturating_loss(lambda x: -F.softplus(x).mean())
    assert "saturating loss" in capsys.readouterr().out
    assert not checks.check_non_saturating_loss(lambda x: F.softplus(-x).sum())
    assert "mean" in capsys.readouterr().out
    assert not checks.check_non_saturating_loss(None)
    assert "not yet solved" in capsys.readouterr().out


@pytest.mark.parametrize("wrong", [
    lambda x: F.softplus(x).mean(),                                   # BCE against "fake" (D's loss on fakes)
    lambda x: F.binary_cross_entropy_with_logits(x, torch.zeros_like(x)),
    lambda x: -torch.sigmoid(x).mean(),                               # D(G(z)) without the log
    lambda x: F.relu(1 - x).mean(),                                   # a hinge loss
    lambda x: F.softplus(-x).mean() / math.log(2),                    # bits instead of nats
], ids=["bce_fake", "bce_zeros", "no_log", "hinge", "bits"])
def test_non_saturating_loss_check_refuses_other_wrong_answers(wrong, capsys):
    assert not checks.check_non_saturating_loss(wrong)
    assert "expected" in capsys.readouterr().out  # the general comparison with the formula caught it


class _PointsAt(nn.Module):
    """A fake toy generator that puts its samples on the given centres, evenly."""

    latent_dim = 2

    def __init__(self, centres):
        super().__init__()
        self.centres = centres

    def forward(self, z):
        idx = torch.arange(len(z)) % len(self.centres)
        return self.centres[idx] + 0.01 * z


def test_toy_coverage_check(capsys):
    ring = evaluation.ring_centers(8, 2.0)
    assert checks.check_toy_gan_coverage(_PointsAt(ring))
    assert not checks.check_toy_gan_coverage(_PointsAt(ring[:1]))
    assert "still collapsed" in capsys.readouterr().out
    assert not checks.check_toy_gan_coverage(_PointsAt(ring[:5]))
    assert "better" in capsys.readouterr().out
    assert not checks.check_toy_gan_coverage(_PointsAt(ring * 1.2))  # on no mode at all
    assert not checks.check_toy_gan_coverage(nn.Linear(2, 2))
    assert "latent_dim" in capsys.readouterr().out


class _Smeared(_PointsAt):
    def forward(self, z):
        return self.centres[torch.arange(len(z)) % len(self.centres)] + 0.15 * z  # 3 std wide is 0.15


def test_toy_coverage_check_refuses_other_wrong_answers(capsys):
    ring = evaluation.ring_centers(8, 2.0)
    assert not checks.check_toy_gan_coverage(_PointsAt(evaluation.ring_centers(16, 2.0)[1::2]))  # half-way between modes
    assert not checks.check_toy_gan_coverage(_PointsAt(ring * 0.75))  # the right angles on a smaller ring
    assert not checks.check_toy_gan_coverage(_PointsAt(torch.cat([ring[:7], ring[6:7]])))  # seven modes, one twice
    capsys.readouterr()
    assert not checks.check_toy_gan_coverage(_Smeared(ring))  # every mode, but most samples far from any
    assert "near one" in capsys.readouterr().out


def test_spectral_discriminator_check(capsys):
    assert checks.check_spectral_discriminator(models.Discriminator(channels=8, norm="spectral"))
    assert not checks.check_spectral_discriminator(models.Discriminator(channels=8, norm="none"))
    assert "no spectral norm" in capsys.readouterr().out
    with_bn = nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), nn.BatchNorm2d(4), sn(nn.Conv2d(4, 8, 4, 2, 1)),
                            nn.Flatten(), sn(nn.Linear(8 * 49, 1)))
    assert not checks.check_spectral_discriminator(with_bn)
    assert "batch norm" in capsys.readouterr().out
    wrong_out = nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), sn(nn.Conv2d(4, 8, 4, 2, 1)), nn.Flatten(),
                              sn(nn.Linear(8 * 49, 2)))
    assert not checks.check_spectral_discriminator(wrong_out)
    assert "(4, 1)" in capsys.readouterr().out
    assert not checks.check_spectral_discriminator(None)


def test_spectral_discriminator_check_refuses_other_wrong_answers(capsys):
    wn = nn.utils.parametrizations.weight_norm  # also a parametrization of the weight, but not a spectral norm
    with_weight_norm = nn.Sequential(wn(nn.Conv2d(1, 4, 4, 2, 1)), nn.LeakyReLU(0.2), wn(nn.Conv2d(4, 8, 4, 2, 1)),
                                     nn.LeakyReLU(0.2), nn.Flatten(), wn(nn.Linear(8 * 49, 1)))
    assert not checks.check_spectral_discriminator(with_weight_norm)
    assert "singular values" in capsys.readouterr().out
    old_api = nn.Sequential(nn.utils.spectral_norm(nn.Conv2d(1, 4, 4, 2, 1)), nn.LeakyReLU(0.2),
                            nn.utils.spectral_norm(nn.Conv2d(4, 8, 4, 2, 1)), nn.Flatten(),
                            nn.utils.spectral_norm(nn.Linear(8 * 49, 1)))
    assert not checks.check_spectral_discriminator(old_api)
    assert "older torch.nn.utils.spectral_norm" in capsys.readouterr().out


class _Raises(nn.Module):
    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.ones(1))

    def forward(self, x):
        raise RuntimeError("shapes do not fit")


class _WrongLatent(nn.Module):
    latent_dim = 2

    def __init__(self):
        super().__init__()
        self.net = nn.Linear(3, 2)  # expects z of size 3

    def forward(self, z):
        return self.net(z)


MALFORMED = [
    (checks.check_non_saturating_loss, "not a function"),
    (checks.check_non_saturating_loss, lambda x: [0.5]),                     # a list, not a tensor
    (checks.check_non_saturating_loss, lambda x: F.softplus(-x)),            # per sample, not the mean
    (checks.check_non_saturating_loss, lambda: 0.0),                         # wrong signature
    (checks.check_non_saturating_loss, lambda x: x.foo()),                   # a bug inside
    (checks.check_toy_gan_coverage, 42),
    (checks.check_toy_gan_coverage, _Raises()),
    (checks.check_toy_gan_coverage, _WrongLatent()),
    (checks.check_toy_gan_coverage, nn.Sequential(nn.Linear(2, 3))),        # no latent_dim
    (checks.check_spectral_discriminator, "model"),
    (checks.check_spectral_discriminator, nn.Linear(2, 2)),
    (checks.check_spectral_discriminator, nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), sn(nn.Conv2d(4, 8, 4, 2, 1)),
                                                       sn(nn.Linear(8, 1)))),  # forgets Flatten: raises inside
]


@pytest.mark.parametrize("check, answer", MALFORMED, ids=[f"{c.__name__}-{i}" for i, (c, _) in enumerate(MALFORMED)])
def test_malformed_answers_print_a_hint_and_never_crash(check, answer, capsys):
    assert check(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("NOT YET - ") and len(out.strip().splitlines()) == 1, out


def _r1_right(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return grad.flatten(1).pow(2).sum(1).mean()


def _r1_no_graph(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real)  # forgot create_graph=True
    return grad.flatten(1).pow(2).sum(1).mean()


def _r1_norm(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return grad.flatten(1).norm(dim=1).mean()  # not squared


def _r1_sum(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return grad.pow(2).sum()  # summed over the batch


def _r1_wgan(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()  # the WGAN-GP target of 1, not R1


def _r1_first_pixel(D, real):
    real = real.detach().requires_grad_(True)
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)
    return grad.flatten(1)[:, :5].pow(2).sum(1).mean()  # only part of each image


def _floor_right(features, n):
    if 2 * n > len(features):
        raise ValueError("the halves would overlap")
    return evaluation.frechet_distance(features[:n], features[n:2 * n])


R1, FLOOR = checks.check_r1_penalty, checks.check_frechet_floor


@pytest.mark.parametrize("check, answer, words", [
    (R1, _r1_no_graph, "create_graph=True"),
    (R1, _r1_norm, "its square"),
    (R1, _r1_sum, "do not sum"),
    (R1, _r1_wgan, "|w|²"),
    (R1, _r1_first_pixel, "all its pixels"),
    (R1, lambda D, real: torch.tensor(1.0), "|w|²"),
    (FLOOR, lambda f, n: evaluation.frechet_distance(f[:n], f[:n]), "same rows"),
    (FLOOR, lambda f, n: evaluation.frechet_distance(f[: n // 2], f[n // 2 : n]), "not n / 2"),
    (FLOOR, lambda f, n: evaluation.frechet_distance(f[:n], f[-n:]), "expected the distance between rows"),
    (FLOOR, lambda f, n: evaluation.frechet_distance(f[:n], f[n:2 * n]), "raise a ValueError"),  # never refuses
    (FLOOR, lambda f, n: evaluation.frechet_distance(f[:n], f[n:2 * n]) if 2 * n <= len(f) else f[10**6], "not IndexError"),
])
def test_r1_and_floor_checks_name_the_mistake(check, answer, words, capsys):
    assert not check(answer)
    assert words in capsys.readouterr().out


@pytest.mark.parametrize("check, answer", [(R1, _r1_right), (FLOOR, _floor_right)])
def test_r1_and_floor_checks_accept_a_right_answer(check, answer, capsys):
    assert check(answer)
    assert "PASSED" in capsys.readouterr().out
    assert not check(None)
