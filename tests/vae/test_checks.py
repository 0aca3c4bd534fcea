import pytest
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


# ---------------------------------------------------------------- wrong answers the checks do not list by name

def test_gaussian_kl_check_refuses_an_unlisted_wrong_formula(capsys):
    # + log sigma^2 instead of - log sigma^2: still 0 at the prior, so only the comparison with the formula catches it
    assert not checks.check_gaussian_kl(lambda m, lv: 0.5 * (m**2 + lv.exp() - 1 + lv))
    assert "values differ from 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2)" in capsys.readouterr().out


def test_reparameterize_check_refuses_unlisted_wrong_noise(capsys):
    # uniform noise with the right mean and spread: only the comparison with the normal distribution catches it
    assert not checks.check_reparameterize(lambda m, lv: m + (0.5 * lv).exp() * (torch.rand_like(m) - 0.5) * 12**0.5)
    assert "within one sigma" in capsys.readouterr().out
    assert not checks.check_reparameterize(lambda m, lv: m + (0.5 * lv).exp() * torch.randn(1))  # one draw for all
    assert "the same noise" in capsys.readouterr().out


class BlindEncoder(models.CVAE):
    def encode(self, x, y):
        return super().encode(torch.zeros_like(x), y)


class DoubleSigmoid(models.CVAE):
    def decode(self, z, y):
        return torch.sigmoid(super().decode(z, y))


def test_cvae_check_refuses_unlisted_wrong_models(capsys):
    assert not checks.check_cvae(BlindEncoder(6, 32))
    assert "ignores the image" in capsys.readouterr().out
    assert not checks.check_cvae(DoubleSigmoid(6, 32))
    assert "sigmoid(decode_logits(z, y))" in capsys.readouterr().out


def test_vector_quantizer_check_refuses_an_unlisted_distance(capsys):
    def manhattan(z_e, codebook):
        idx = torch.cdist(z_e, codebook, p=1).argmin(1)
        return z_e + (codebook[idx] - z_e).detach(), idx

    assert not checks.check_vector_quantizer(manhattan)
    assert "closest in Euclidean distance" in capsys.readouterr().out


# ---------------------------------------------------------------- malformed answers print a hint, never crash

def _raises(*args):
    raise ValueError("my bug")


MALFORMED = {
    "check_gaussian_kl": [None, 3, _raises, lambda m, lv: None, lambda m, lv: [0.0, 0.0, 0.0], lambda m, lv: m.numpy(),
                          lambda m, lv: torch.zeros(3, 1), lambda m, lv: (m, lv)],
    "check_reparameterize": [None, "sample_z", _raises, lambda m, lv: None, lambda m, lv: m.tolist(),
                             lambda m, lv: m[:10], lambda m, lv: torch.zeros(2, 3)],
    "check_cvae": [None, 3, nn.Linear(2, 2), models.MLPVAE(4, 16), models.CVAE(4, 16, num_classes=3)],
    "check_vector_quantizer": [None, 3, _raises, lambda z, c: None, lambda z, c: z, lambda z, c: (z, None),
                               lambda z, c: (z, torch.zeros(30)), lambda z, c: (None, torch.zeros(30, dtype=torch.long)),
                               lambda z, c: (z[:5], torch.cdist(z, c).argmin(1))],
}


@pytest.mark.parametrize("check,answer", [(c, a) for c, answers in MALFORMED.items() for a in answers],
                         ids=[f"{c}-{i}" for c, answers in MALFORMED.items() for i in range(len(answers))])
def test_malformed_answers_print_a_hint(capsys, check, answer):
    assert getattr(checks, check)(answer) is False
    out = capsys.readouterr().out
    assert out.startswith("NOT YET - ") and out.count("\n") == 1
    if answer is _raises:
        assert "ValueError: my bug" in out


def test_new_exercise_checks_pass_the_reference_and_name_the_mistakes(capsys):
    import math

    kl = elbo.gaussian_kl_between
    assert checks.check_kl_between(kl)
    assert not checks.check_kl_between(lambda mq, lq, mp, lp: kl(mp, lp, mq, lq))
    assert "not symmetric" in capsys.readouterr().out
    assert not checks.check_kl_between(lambda mq, lq, mp, lp: elbo.gaussian_kl(mq, lq))
    assert "N(0, 1)" in capsys.readouterr().out

    def iwae(model, x, k):
        return -elbo.iwae_bound(model, x, k=k, seed=int(torch.randint(0, 10**6, (1,))))["per_image"]

    def no_log_k(model, x, k):
        return iwae(model, x, k) + math.log(k)

    def mean_log_w(model, x, k):  # the ELBO whatever k is
        return torch.stack([iwae(model, x, 1) for _ in range(k)]).mean(0)

    assert checks.check_iwae(iwae)
    assert not checks.check_iwae(no_log_k)
    assert "log k too high" in capsys.readouterr().out
    assert not checks.check_iwae(mean_log_w)
    assert "does not tighten" in capsys.readouterr().out

    assert checks.check_free_bits_step(lambda beta, lam: elbo.vae_step(beta, free_bits=lam))
    assert not checks.check_free_bits_step(lambda beta, lam: elbo.vae_step(beta))
    assert not checks.check_free_bits_step(lambda beta, lam: elbo.vae_step(1.0, free_bits=lam))
    assert "beta is missing" in capsys.readouterr().out
