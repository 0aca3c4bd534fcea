import pytest
import torch
import torch.nn as nn

from course_utils import train
from course_utils.autoencoders import models, training


def test_mlp_autoencoder_shapes_and_the_known_parameter_count():
    model = models.MLPAutoencoder(32, hidden_dims=(256, 128, 64))
    x = torch.rand(3, 1, 28, 28)
    assert model.encode(x).shape == (3, 32) and model(x).shape == (3, 1, 28, 28)
    # (in + 1) * out summed over 784-256-128-64-32-64-128-256-784: the curriculum's 489,136
    assert train.count_parameters(model) == 489_136
    out = model(x)
    assert out.min() >= 0 and out.max() <= 1  # sigmoid output
    assert models.MLPAutoencoder(8, hidden_dims=(), output="tanh")(x).min() >= -1
    linear = models.MLPAutoencoder(4, hidden_dims=(), output="none")
    assert [type(m) for m in linear.modules() if not isinstance(m, nn.Sequential | models.MLPAutoencoder)] == [nn.Linear, nn.Linear, nn.Identity]


def test_mlp_blocks_mirror_each_other_for_layerwise_pretraining():
    model = models.MLPAutoencoder(16, hidden_dims=(64, 32), batch_norm=True, dropout=0.1)
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


def test_the_state_dict_keys_are_those_of_the_layout_before_issue_14():
    # chapter 06 and any saved model depend on these names (encoder.<k>.0 is the Linear of block k)
    keys = list(models.MLPAutoencoder(8, hidden_dims=(32,), batch_norm=True).state_dict())
    assert keys[:2] == ["encoder.0.0.weight", "encoder.0.0.bias"] and "decoder.1.0.weight" in keys
    assert list(models.ConvAutoencoder(8).state_dict())[:2] == ["encoder.0.weight", "encoder.0.bias"]


@pytest.mark.parametrize("entry", ["fit_autoencoder", "reconstruction_errors", "encode_all"])
@pytest.mark.parametrize("pixels", ["float 0..255", "uint8"])
def test_pixels_in_0_255_are_refused_with_divide_by_255(entry, pixels):
    X = torch.rand(16, 1, 28, 28) * 255
    X = X.to(torch.uint8) if pixels == "uint8" else X
    call = {"fit_autoencoder": lambda: training.fit_autoencoder(models.MLPAutoencoder(4, hidden_dims=()), X, num_epochs=1, batch_size=8),
            "reconstruction_errors": lambda: training.reconstruction_errors(models.MLPAutoencoder(4, hidden_dims=()), X),
            "encode_all": lambda: training.encode_all(models.MLPAutoencoder(4, hidden_dims=()), X)}[entry]
    with pytest.raises(ValueError, match="divide by 255"):
        call()
    # the same images divided by 255 are accepted
    X01 = X.float() / 255
    if entry == "fit_autoencoder":
        training.fit_autoencoder(models.MLPAutoencoder(4, hidden_dims=()), X01, num_epochs=1, batch_size=8)
    elif entry == "reconstruction_errors":
        assert training.reconstruction_errors(models.MLPAutoencoder(4, hidden_dims=()), X01).shape == (16,)
    else:
        assert training.encode_all(models.MLPAutoencoder(4, hidden_dims=()), X01).shape == (16, 4)


def test_tanh_data_in_minus_one_to_one_is_accepted_with_mse():
    X = torch.rand(16, 1, 28, 28) * 2 - 1
    history = training.fit_autoencoder(models.MLPAutoencoder(4, hidden_dims=(), output="tanh"), X, num_epochs=1,
                                       batch_size=8, loss="mse")
    assert len(history) == 1


def test_training_reduces_the_loss_and_l1_makes_codes_smaller():
    torch.manual_seed(0)
    X = (torch.rand(512, 1, 28, 28) < torch.rand(512, 1, 1, 1)).float()  # images of varying brightness
    model = models.MLPAutoencoder(4, hidden_dims=(32,))
    before = training.reconstruction_errors(model, X).mean()
    history = training.fit_autoencoder(model, X, num_epochs=5, batch_size=64, lr=3e-3)
    assert history["train_rec"][-1] < history["train_rec"][0]
    assert training.reconstruction_errors(model, X).mean() < before
    plain, sparse = models.MLPAutoencoder(8, hidden_dims=(32,)), models.MLPAutoencoder(8, hidden_dims=(32,))
    training.fit_autoencoder(plain, X, num_epochs=5, batch_size=64)
    training.fit_autoencoder(sparse, X, num_epochs=5, batch_size=64, l1_code=1.0)
    assert training.encode_all(sparse, X).abs().mean() < 0.5 * training.encode_all(plain, X).abs().mean()


def test_denoising_step_uses_the_clean_target():
    model = models.MLPAutoencoder(4, hidden_dims=())
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
