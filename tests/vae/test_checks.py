import torch
import torch.nn as nn

from course_utils.vae import checks, elbo, models


def test_gaussian_kl_check(capsys):
    assert checks.check_gaussian_kl(elbo.gaussian_kl)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_gaussian_kl(lambda m, lv: (m**2 + lv.exp() - 1 - lv))
    assert "factor 1/2" in capsys.readouterr().out
    assert not checks.check_gaussian_kl(lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 - lv).sum(-1))
    assert "do not sum" in capsys.readouterr().out
    assert not checks.check_gaussian_kl(None)


def test_reparameterize_check(capsys):
    assert checks.check_reparameterize(lambda m, lv: elbo.reparameterize(m, lv))
    assert not checks.check_reparameterize(lambda m, lv: m + lv.exp() * torch.randn_like(m))
    assert "sigma = 0.5" in capsys.readouterr().out.split("\n")[-2]
    assert not checks.check_reparameterize(lambda m, lv: torch.normal(m.detach(), (0.5 * lv).exp().detach()))
    assert "cut off" in capsys.readouterr().out

    def todo(m, lv):
        raise NotImplementedError

    assert not checks.check_reparameterize(todo)
    assert "not yet solved" in capsys.readouterr().out


class Deaf(models.CVAE):
    def decode_logits(self, z, y):
        return super().decode_logits(z, torch.zeros_like(y))


def test_cvae_check(capsys):
    assert checks.check_cvae(models.CVAE(6, 32))
    assert not checks.check_cvae(Deaf(6, 32))
    assert "feed y into the decoder" in capsys.readouterr().out
    assert not checks.check_cvae(nn.Linear(2, 2))
    assert "method `encode`" in capsys.readouterr().out


def test_vector_quantizer_check(capsys):
    def good(z_e, codebook):
        idx = torch.cdist(z_e, codebook).argmin(1)
        return z_e + (codebook[idx] - z_e).detach(), idx

    def no_straight_through(z_e, codebook):
        idx = torch.cdist(z_e, codebook).argmin(1)
        return codebook[idx], idx

    def farthest(z_e, codebook):
        idx = torch.cdist(z_e, codebook).argmax(1)
        return z_e + (codebook[idx] - z_e).detach(), idx

    assert checks.check_vector_quantizer(good)
    assert not checks.check_vector_quantizer(no_straight_through)
    assert "straight through" in capsys.readouterr().out.split("\n")[-2]
    assert not checks.check_vector_quantizer(farthest)
    assert "farthest" in capsys.readouterr().out
