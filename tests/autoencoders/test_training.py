import pytest
import torch
import torch.nn as nn

from course_utils import train
from course_utils.autoencoders import models, training


def test_mlp_autoencoder_shapes_and_the_known_parameter_count():
    model = models.MLPAutoencoder(32, hidden=(256, 128, 64))
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 32) and model(x).shape == (3, 1, 28, 28)
    # (in + 1) * out summed over 784-256-128-64-32-64-128-256-784: the curriculum's 489,136
    assert train.count_parameters(model) == 489_136
    out = model(x)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output
    assert models.MLPAutoencoder(8, hidden=(), output="tanh")(x).min() >= -1
    linear = models.MLPAutoencoder(4, hidden=(), output="none")
    assert [type(m) for m in linear.modules() if not isinstance(m, nn.Sequential | models.MLPAutoencoder)] == [nn.Linear, nn.Linear, nn.Identity]


def test_mlp_blocks_mirror_each_other_for_layerwise_pretraining():
    model = models.MLPAutoencoder(16, hidden=(64, 32), batch_norm=True, dropout=0.1)
    n = len(model.encoder)
    assert n == 3 and len(model.decoder) == 3
    h = torch.rand(5, 784)
    for k in range(n):
        pair = nn.Sequential(model.encoder[k], model.decoder[n - 1 - k]).eval()
        assert pair(h).shape == h.shape  # each pair is a shallow autoencoder of its own input
        h = model.encoder[k](h)
    assert sum(isinstance(m, nn.BatchNorm1d) for m in model.modules()) == 4


@pytest.mark.parametrize("decoder", ["transposed", "upsample"])
def test_conv_autoencoder_shapes(decoder):
    model = models.ConvAutoencoder(10, channels=(4, 8), decoder=decoder)
    x = torch.rand(2, 1, 28, 28)
    assert model.encode(x).shape == (2, 10) and model(x).shape == (2, 1, 28, 28)
    kinds = {type(m) for m in model.decoder.modules()}
    assert (nn.ConvTranspose2d in kinds) == (decoder == "transposed") and (nn.Upsample in kinds) == (decoder == "upsample")


def test_bad_arguments_are_explained():
    with pytest.raises(ValueError, match="Unknown output 'relu'"):
        models.MLPAutoencoder(8, output="relu")
    with pytest.raises(ValueError, match="Unknown decoder"):
        models.ConvAutoencoder(8, decoder="pixelshuffle")
    with pytest.raises(ValueError, match="latent_dim must be a positive int"):
        models.MLPAutoencoder(0)
    with pytest.raises(ValueError, match="Unknown loss"):
        training.autoencoder_step("huber")
    with pytest.raises(ValueError, match=r"\(B, 1, 28, 28\)"):
        training.reconstruction_errors(models.MLPAutoencoder(4), torch.rand(3, 784))
    with pytest.raises(ValueError, match="both groups"):
        training.anomaly_roc_auc([], [1.0])
    with pytest.raises(ValueError, match="std must be >= 0"):
        training.add_noise(-0.1)


def test_training_reduces_the_loss_and_l1_makes_codes_smaller():
    torch.manual_seed(0)
    X = (torch.rand(512, 1, 28, 28) < torch.rand(512, 1, 1, 1)).float()  # images of varying brightness
    model = models.MLPAutoencoder(4, hidden=(32,))
    before = training.reconstruction_errors(model, X).mean()
    history = training.fit_autoencoder(model, X, num_epochs=5, batch_size=64, lr=3e-3)
    assert history["train_rec"][-1] < history["train_rec"][0]
    assert training.reconstruction_errors(model, X).mean() < before
    plain, sparse = models.MLPAutoencoder(8, hidden=(32,)), models.MLPAutoencoder(8, hidden=(32,))
    training.fit_autoencoder(plain, X, num_epochs=5, batch_size=64)
    training.fit_autoencoder(sparse, X, num_epochs=5, batch_size=64, l1_code=1.0)
    assert training.encode_all(sparse, X).abs().mean() < 0.5 * training.encode_all(plain, X).abs().mean()


def test_denoising_step_uses_the_clean_target():
    model = models.MLPAutoencoder(4, hidden=())
    step = training.autoencoder_step("mse")
    clean = torch.full((2, 1, 28, 28), 0.5)
    with torch.no_grad():
        x_hat = model(torch.zeros_like(clean))
    logs = step(model, (torch.zeros_like(clean), clean))  # input zeros, target 0.5
    assert logs["rec"] == pytest.approx(((x_hat - clean) ** 2).mean().item(), rel=1e-5)
    noisy = training.add_noise(0.3, vary=True, generator=torch.Generator().manual_seed(0))(clean)
    assert noisy.min() >= 0 and noisy.max() <= 1 and not torch.equal(noisy, clean)
    assert torch.equal(training.add_noise(0.0)(clean), clean)


class _Copy(nn.Module):
    """Reconstructs bright pixels only: dark images come back perfectly, bright ones badly."""

    def __init__(self):
        super().__init__()
        self.w = nn.Parameter(torch.zeros(1))

    def forward(self, x):
        return x.clamp(max=0.5) + 0 * self.w


def test_anomaly_scores_and_roc_auc():
    model = _Copy()
    normal = torch.rand(50, 1, 28, 28) * 0.5        # within the range the model reproduces
    odd = 0.5 + torch.rand(20, 1, 28, 28) * 0.5     # partly outside it
    s_normal, s_odd = training.reconstruction_errors(model, normal), training.reconstruction_errors(model, odd)
    assert s_normal.shape == (50,) and torch.allclose(s_normal, torch.zeros(50))
    assert (s_odd > 0).all()
    assert training.anomaly_roc_auc(s_normal, s_odd) == 1.0
    assert training.anomaly_roc_auc(s_odd, s_normal) == 0.0  # roles swapped: perfectly wrong
    assert training.anomaly_roc_auc([1.0, 2.0], [1.5]) == 0.5
