"""course_utils.gan.models: the toy MLPs, the GAN pair, DCGAN shapes and ranges, spectral norm."""

import pytest
import torch
import torch.nn as nn

from course_utils.gan import models


def test_toy_networks_and_the_pair():
    G, D = models.ToyGenerator(latent_dim=3, hidden_dim=16, depth=2), models.mlp(2, 1, hidden_dim=16, depth=2, leaky=True)
    assert [m.out_features for m in G.net if isinstance(m, nn.Linear)] == [16, 16, 2]
    assert sum(isinstance(m, nn.LeakyReLU) for m in D) == 2 and not any(isinstance(m, nn.ReLU) for m in D)
    pair = models.GAN(G, D)
    z = pair.sample_z(5)
    assert z.shape == (5, 3) and pair(z).shape == (5, 2) and D(pair(z)).shape == (5, 1)
    g = torch.Generator().manual_seed(3)
    assert torch.equal(pair.sample_z(4, generator=g), torch.randn(4, 3, generator=torch.Generator().manual_seed(3)))


@pytest.mark.parametrize("norm", models.NORMS)
def test_dcgan_shapes_and_ranges(norm):
    G, D = models.Generator(latent_dim=16, channels=8), models.Discriminator(channels=8, norm=norm)
    x = G(torch.randn(5, 16))
    assert x.shape == (5, 1, 28, 28) and x.abs().max() <= 1
    assert D(x).shape == (5, 1)
    has_bn = any(isinstance(m, nn.BatchNorm2d) for m in D.modules())
    assert has_bn == (norm == "batch")
    assert not isinstance(D.net[1], nn.BatchNorm2d)  # never batch norm on D's input layer
    assert isinstance(G.net[-1], nn.Tanh) and any(isinstance(m, nn.LeakyReLU) for m in D.modules())


def test_spectral_norm_bounds_every_layer():
    D = models.Discriminator(channels=8, norm="spectral")
    models.init_dcgan_weights(D)
    D.train()
    with torch.no_grad():
        for _ in range(30):
            D(torch.randn(4, 1, 28, 28))
    layers = [m for m in D.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    assert len(layers) == 3
    for m in layers:
        assert torch.linalg.matrix_norm(m.weight.flatten(1), ord=2).item() == pytest.approx(1.0, abs=0.05)


def test_dcgan_init():
    G = models.Generator(latent_dim=16, channels=32)
    models.init_dcgan_weights(G)
    conv = G.net[4]
    assert conv.weight.std().item() == pytest.approx(0.02, rel=0.1)
    bn = G.net[5]
    assert bn.weight.mean().item() == pytest.approx(1.0, abs=0.01) and torch.equal(bn.bias, torch.zeros_like(bn.bias))
