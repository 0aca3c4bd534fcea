import torch.nn as nn

from course_utils.autoencoders import checks, models


class Pooled(nn.Module):
    def __init__(self, pool=True):
        super().__init__()
        down = [nn.MaxPool2d(2)] if pool else [nn.AvgPool2d(2)]
        self.encoder = nn.Sequential(nn.Conv2d(1, 4, 3, padding=1), nn.ReLU(), *down, nn.Conv2d(4, 8, 3, padding=1), nn.ReLU(),
                                     *down, nn.Flatten(), nn.Linear(8 * 49, 6))
        self.decoder = models.ConvAutoencoder(6, (4, 8)).decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


def test_pooled_autoencoder_check(capsys):
    assert checks.check_pooled_autoencoder(Pooled())
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(models.ConvAutoencoder(8))
    assert "stride > 1" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(Pooled(pool=False))
    assert "0 max-pool" in capsys.readouterr().out
    assert not checks.check_pooled_autoencoder(nn.Sequential(nn.MaxPool2d(2)))
    assert "method `encode`" in capsys.readouterr().out


def test_hourglass_check(capsys):
    assert checks.check_hourglass(lambda d: tuple(256 // 2**i for i in range(d)))
    assert not checks.check_hourglass(lambda d: tuple(256 - 64 * i for i in range(d)))
    assert "halve" in capsys.readouterr().out
    assert not checks.check_hourglass(lambda d: (256,) * (d + 1))
    assert "()" in capsys.readouterr().out


def test_latent_arithmetic_check(capsys):
    assert checks.check_latent_arithmetic(lambda m, a, b, c: m.decode(m.encode(a) - m.encode(b) + m.encode(c)))
    assert not checks.check_latent_arithmetic(lambda m, a, b, c: m.decode(m.encode(a) - m.encode(c) + m.encode(b)))
    assert "swapped" in capsys.readouterr().out
    assert not checks.check_latent_arithmetic(lambda m, a, b, c: a - b + c)
    assert "on the images" in capsys.readouterr().out


def test_unsolved_answers_do_not_crash(capsys):
    def stub(*args):
        raise NotImplementedError

    assert not checks.check_pooled_autoencoder(None)
    assert not checks.check_hourglass(stub)
    assert not checks.check_latent_arithmetic(stub)
    out = capsys.readouterr().out
    assert out.count("NOT YET") == 3 and out.count("not yet solved") == 3
