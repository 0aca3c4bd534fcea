"""The chapter 04 exercise checks accept right answers and explain the usual wrong ones."""

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.gan import checks, evaluation, models


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


def test_spectral_discriminator_check(capsys):
    assert checks.check_spectral_discriminator(models.Discriminator(channels=8, norm="spectral"))
    assert not checks.check_spectral_discriminator(models.Discriminator(channels=8, norm="none"))
    assert "no spectral norm" in capsys.readouterr().out
    sn = nn.utils.parametrizations.spectral_norm
    with_bn = nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), nn.BatchNorm2d(4), sn(nn.Conv2d(4, 8, 4, 2, 1)),
                            nn.Flatten(), sn(nn.Linear(8 * 49, 1)))
    assert not checks.check_spectral_discriminator(with_bn)
    assert "batch norm" in capsys.readouterr().out
    wrong_out = nn.Sequential(sn(nn.Conv2d(1, 4, 4, 2, 1)), sn(nn.Conv2d(4, 8, 4, 2, 1)), nn.Flatten(),
                              sn(nn.Linear(8 * 49, 2)))
    assert not checks.check_spectral_discriminator(wrong_out)
    assert "(4, 1)" in capsys.readouterr().out
    assert not checks.check_spectral_discriminator(None)
