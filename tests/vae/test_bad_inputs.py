"""Bad input to chapter 06's public API is refused with one sentence that names the offending argument."""

import math

import pytest
import torch
import torch.nn as nn

from course_utils.vae import elbo, models, training, views

IMAGES = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
PIXELS_0_255 = IMAGES * 255
MU = torch.zeros(3)


def mlp():
    return models.MLPVAE(4, 16)


def cvae():
    return models.CVAE(4, 16)


def autoencoder():
    from course_utils.autoencoders.models import MLPAutoencoder

    return MLPAutoencoder(4, hidden_dims=(8,))


def with_nan():
    X = IMAGES.clone()
    X[0, 0, 0, 0] = float("nan")
    return X


BETA = {1.0: {"recon": IMAGES[:3], "samples": IMAGES[:3], "rec": 1.0, "kl": 1.0}}

# id: (call, exception type, pattern the message must contain: the argument's name)
CASES = {
    # models
    "MLPVAE latent_dim 0": (lambda: models.MLPVAE(latent_dim=0), ValueError, "latent_dim"),
    "MLPVAE latent_dim float": (lambda: models.MLPVAE(latent_dim=2.5), ValueError, "latent_dim"),
    "MLPVAE hidden_dim 0": (lambda: models.MLPVAE(hidden_dim=0), ValueError, "hidden_dim"),
    "MLPVAE hidden_dim tuple": (lambda: models.MLPVAE(hidden_dim=(400,)), ValueError, "hidden_dim"),
    "ConvVAE latent_dim negative": (lambda: models.ConvVAE(latent_dim=-1), ValueError, "latent_dim"),
    "ConvVAE one channel width": (lambda: models.ConvVAE(channels=(16,)), ValueError, "channels"),
    "ConvHeadVAE patch 5": (lambda: models.ConvHeadVAE(patch=5), ValueError, "patch"),
    "ConvHeadVAE patch True": (lambda: models.ConvHeadVAE(patch=True), ValueError, "patch"),
    "ConvHeadVAE channels 0": (lambda: models.ConvHeadVAE(channels=0), ValueError, "channels"),
    "ConvHeadVAE hidden_dim 0": (lambda: models.ConvHeadVAE(hidden_dim=0), ValueError, "hidden_dim"),
    "CVAE latent_dim 0": (lambda: models.CVAE(latent_dim=0), ValueError, "latent_dim"),
    "CVAE num_classes 0": (lambda: models.CVAE(num_classes=0), ValueError, "num_classes"),
    "CVAE float labels": (lambda: cvae().encode(IMAGES, torch.zeros(8)), ValueError, "y must"),
    "CVAE label out of range": (lambda: cvae().decode(torch.zeros(8, 4), torch.full((8,), 10)), ValueError, "y must"),
    "CVAE fewer labels than codes": (lambda: cvae().decode(torch.zeros(8, 4), torch.zeros(3, dtype=torch.long)), ValueError, "y must"),
    "VectorQuantizer num_codes 0": (lambda: models.VectorQuantizer(num_codes=0), ValueError, "num_codes"),
    "VectorQuantizer wrong code_dim": (lambda: models.VectorQuantizer(8, 4)(torch.zeros(2, 5, 3, 3)), ValueError, "z_e"),
    "VectorQuantizer.init_from flat": (lambda: models.VectorQuantizer(8, 4).init_from(torch.zeros(10, 4)), ValueError, "z_e"),
    "VQVAE channels 0": (lambda: models.VQVAE(channels=0), ValueError, "channels"),
    "VQVAE.decode_indices out of range": (lambda: models.VQVAE(8, 4, 4).decode_indices(torch.full((1, 7, 7), 8)), ValueError, "indices"),
    # elbo
    "gaussian_kl shapes differ": (lambda: elbo.gaussian_kl(torch.zeros(3), torch.zeros(4)), ValueError, "mu and logvar"),
    "gaussian_kl list": (lambda: elbo.gaussian_kl([0.0, 1.0], torch.zeros(2)), ValueError, "mu and logvar"),
    "reparameterize shapes differ": (lambda: elbo.reparameterize(torch.zeros(2, 3), torch.zeros(3)), ValueError, "mu and logvar"),
    "elbo_terms shapes differ": (lambda: elbo.elbo_terms(torch.zeros(2, 784), IMAGES[:2], MU, MU), ValueError, "logits"),
    "vae_step beta negative": (lambda: elbo.vae_step(beta=-1.0), ValueError, "beta"),
    "vae_step free_bits nan": (lambda: elbo.vae_step(free_bits=float("nan")), ValueError, "free_bits"),
    "vae_step anneal_steps float": (lambda: elbo.vae_step(anneal_steps=2.5), ValueError, "anneal_steps"),
    "negative_elbo pixels 0..255": (lambda: elbo.negative_elbo(mlp(), PIXELS_0_255), ValueError, "divide by 255"),
    "negative_elbo flat images": (lambda: elbo.negative_elbo(mlp(), IMAGES.flatten(1)), ValueError, r"X must .*\(B, 1, 28, 28\)"),
    "negative_elbo empty": (lambda: elbo.negative_elbo(mlp(), IMAGES[:0]), ValueError, "X must"),
    "negative_elbo uint8": (lambda: elbo.negative_elbo(mlp(), PIXELS_0_255.to(torch.uint8)), ValueError, "X must be float"),
    "negative_elbo NaN pixel": (lambda: elbo.negative_elbo(mlp(), with_nan()), ValueError, "X must"),
    "negative_elbo labels too few": (lambda: elbo.negative_elbo(cvae(), IMAGES, torch.zeros(3, dtype=torch.long)), ValueError, "y must"),
    "negative_elbo batch_size 0": (lambda: elbo.negative_elbo(mlp(), IMAGES, batch_size=0), ValueError, "batch_size"),
    "kl_per_dimension pixels 0..255": (lambda: elbo.kl_per_dimension(mlp(), PIXELS_0_255), ValueError, "divide by 255"),
    "kl_per_dimension one image unbatched": (lambda: elbo.kl_per_dimension(mlp(), IMAGES[0]), ValueError, "X must"),
    "kl_per_dimension an autoencoder": (lambda: elbo.kl_per_dimension(autoencoder(), IMAGES), TypeError, "model must be a VAE"),
    # iwae_bound, posterior_mean_variance: a model of the wrong kind, settings that are not counts
    "iwae_bound an autoencoder": (lambda: elbo.iwae_bound(autoencoder(), IMAGES), TypeError, "model must be a VAE"),
    "iwae_bound a string": (lambda: elbo.iwae_bound("vae", IMAGES), TypeError, "model must be a VAE"),
    "iwae_bound a CVAE": (lambda: elbo.iwae_bound(cvae(), IMAGES), TypeError, "model is a CVAE"),
    "iwae_bound a VQVAE": (lambda: elbo.iwae_bound(models.VQVAE(), IMAGES), TypeError, "model must be a VAE"),
    "iwae_bound k True": (lambda: elbo.iwae_bound(mlp(), IMAGES, k=True), ValueError, "k "),
    "iwae_bound batch_size True": (lambda: elbo.iwae_bound(mlp(), IMAGES, batch_size=True), ValueError, "batch_size"),
    "iwae_bound seed str": (lambda: elbo.iwae_bound(mlp(), IMAGES, seed="0"), ValueError, "seed"),
    "iwae_bound pixels 0..255": (lambda: elbo.iwae_bound(mlp(), PIXELS_0_255), ValueError, "divide by 255"),
    "posterior_mean_variance an autoencoder": (lambda: elbo.posterior_mean_variance(autoencoder(), IMAGES), TypeError,
                                               "model must be a VAE"),
    "posterior_mean_variance a CVAE": (lambda: elbo.posterior_mean_variance(cvae(), IMAGES), TypeError, "model is a CVAE"),
    "posterior_mean_variance batch_size True": (lambda: elbo.posterior_mean_variance(mlp(), IMAGES, batch_size=True),
                                                ValueError, "batch_size"),
    # gaussian_kl_between: NaN, integers and empty tensors used to come back as NaN, 0 or an empty result
    "gaussian_kl_between NaN mean": (lambda: elbo.gaussian_kl_between(torch.full((3,), float("nan")), MU, MU, MU), ValueError,
                                     "mu_q"),
    "gaussian_kl_between -inf prior log-variance": (lambda: elbo.gaussian_kl_between(MU, MU, MU, torch.full((3,), -math.inf)),
                                                    ValueError, "logvar_p"),
    "gaussian_kl_between int tensors": (lambda: elbo.gaussian_kl_between(*[torch.zeros(3, dtype=torch.long)] * 4), ValueError,
                                        "mu_q"),
    "gaussian_kl_between empty": (lambda: elbo.gaussian_kl_between(*[torch.zeros(0)] * 4), ValueError, "mu_q"),
    "gaussian_kl_between float prior": (lambda: elbo.gaussian_kl_between(MU, MU, 0.0, 0.0), ValueError, "mu_p"),
    "active_dimensions 2-D": (lambda: elbo.active_dimensions(torch.zeros(2, 3)), ValueError, "kl_dims"),
    "active_dimensions threshold negative": (lambda: elbo.active_dimensions(torch.zeros(3), threshold=-1), ValueError, "threshold"),
    "vq_step commitment negative": (lambda: elbo.vq_step(commitment=-0.1), ValueError, "commitment"),
    "codebook_usage index out of range": (lambda: elbo.codebook_usage(torch.tensor([9]), 4), ValueError, "indices"),
    "codebook_usage float indices": (lambda: elbo.codebook_usage(torch.tensor([0.5, 1.0]), 4), ValueError, "indices"),
    "codebook_usage num_codes 0": (lambda: elbo.codebook_usage(torch.tensor([0]), 0), ValueError, "num_codes"),
    # training
    "gan_samples n True": (lambda: training.gan_samples(True), ValueError, "n must"),
    "gan_samples seed str": (lambda: training.gan_samples(4, seed="4"), ValueError, "seed must"),
    "gan_samples use_checkpoint 1": (lambda: training.gan_samples(4, use_checkpoint=1), TypeError, "use_checkpoint"),
    "fit_vae pixels 0..255": (lambda: training.fit_vae(mlp(), PIXELS_0_255, num_epochs=1, batch_size=4), ValueError, "divide by 255"),
    "fit_vae labels too few": (lambda: training.fit_vae(cvae(), IMAGES, torch.zeros(3, dtype=torch.long), num_epochs=1, batch_size=4), ValueError, "y must"),
    "fit_vae float labels": (lambda: training.fit_vae(cvae(), IMAGES, torch.zeros(8), num_epochs=1, batch_size=4), ValueError, "y must"),
    "fit_vae num_epochs 0": (lambda: training.fit_vae(mlp(), IMAGES, num_epochs=0, batch_size=4), ValueError, "num_epochs"),
    "fit_vae lr negative": (lambda: training.fit_vae(mlp(), IMAGES, num_epochs=1, lr=-1.0, batch_size=4), ValueError, "lr"),
    "fit_vae beta negative": (lambda: training.fit_vae(mlp(), IMAGES, num_epochs=1, beta=-1.0, batch_size=4), ValueError, "beta"),
    "fit_vae not a VAE": (lambda: training.fit_vae(nn.Linear(784, 4), IMAGES, num_epochs=1, batch_size=4), TypeError, "model must be a VAE"),
    "fit_vae batch_size above the data": (lambda: training.fit_vae(mlp(), IMAGES, num_epochs=1, batch_size=64), ValueError, "batch_size"),
    "fit_for_seconds pixels 0..255": (lambda: training.fit_for_seconds(mlp(), PIXELS_0_255, 1.0, batch_size=4), ValueError, "divide by 255"),
    "fit_for_seconds seconds 0": (lambda: training.fit_for_seconds(mlp(), IMAGES, 0, batch_size=4), ValueError, "seconds"),
    "fit_for_seconds seconds nan": (lambda: training.fit_for_seconds(mlp(), IMAGES, float("nan"), batch_size=4), ValueError, "seconds"),
    "fit_contestant unknown kind": (lambda: training.fit_contestant(mlp(), "transformer", IMAGES, IMAGES, 1.0), ValueError, "kind must be one of mlp, conv"),
    "fit_contestant flat test images": (lambda: training.fit_contestant(mlp(), "mlp", IMAGES.repeat(17, 1, 1, 1), IMAGES.flatten(1), 0.2), ValueError, "X_test"),
    # views
    "interpolation_paths num_steps 1": (lambda: views.interpolation_paths({"v": mlp()}, IMAGES[:1], IMAGES[1:2], num_steps=1), ValueError, "num_steps"),
    "interpolation_paths two images": (lambda: views.interpolation_paths({"v": mlp()}, IMAGES[:2], IMAGES[1:2]), ValueError, "x_a"),
    "interpolation_paths no models": (lambda: views.interpolation_paths({}, IMAGES[:1], IMAGES[1:2]), ValueError, "models"),
    "interpolation_view labels too few": (lambda: views.interpolation_view({"v": mlp()}, IMAGES, torch.arange(4) % 2, ["a", "b"], class_a=0, class_b=1), ValueError, "y must"),
    "interpolation_view class_a unknown": (lambda: views.interpolation_view({"v": mlp()}, IMAGES, torch.arange(8) % 2, ["a", "b"], class_a=5, class_b=1), ValueError, "class_a"),
    "interpolation_view class missing": (lambda: views.interpolation_view({"v": mlp()}, IMAGES, torch.zeros(8, dtype=torch.long), ["a", "b"], class_a=0, class_b=1), ValueError, "every class"),
    "traversal_view dims out of range": (lambda: views.traversal_view(mlp(), [7]), ValueError, "dims"),
    "traversal_view base too short": (lambda: views.traversal_view(mlp(), [0], base=torch.zeros(2)), ValueError, "base"),
    "traversal_view span 0": (lambda: views.traversal_view(mlp(), [0], span=0), ValueError, "span"),
    "traversal_view labels too few": (lambda: views.traversal_view(mlp(), [0, 1], labels=["a"]), ValueError, "labels"),
    "traversal_figure dims out of range": (lambda: views.traversal_figure(mlp(), [9]), ValueError, "dims"),
    "beta_view no results": (lambda: views.beta_view(IMAGES[:3], {}), ValueError, "results"),
    "beta_view missing samples": (lambda: views.beta_view(IMAGES[:3], {1.0: {"recon": IMAGES[:3]}}), ValueError, "results"),
    "beta_view flat originals": (lambda: views.beta_view(IMAGES[:3].flatten(1), BETA), ValueError, "originals"),
    "beta_figure missing rec": (lambda: views.beta_figure(IMAGES[:3], {1.0: {"recon": IMAGES, "samples": IMAGES}}), ValueError, "results"),
    "curves_figure no runs": (lambda: views.curves_figure({}), ValueError, "runs"),
    "curves_figure x too short": (lambda: views.curves_figure({"a": {"x": [1], "nelbo": [2, 1], "rec": [1, 1], "kl": [1, 0]}}), ValueError, "runs"),
    "manifold_figure 3-D code": (lambda: views.manifold_figure(models.MLPVAE(3, 8)), ValueError, "model must have a 2-D"),
    "manifold_figure span 1": (lambda: views.manifold_figure(models.MLPVAE(2, 8), span=1.0), ValueError, "span"),
    "manifold_figure n 0": (lambda: views.manifold_figure(models.MLPVAE(2, 8), n=0), ValueError, "n must"),
    "kl_bars_figure no runs": (lambda: views.kl_bars_figure({}), ValueError, "kl_dims"),
    "kl_bars_figure threshold 0": (lambda: views.kl_bars_figure({"a": torch.ones(3)}, threshold=0), ValueError, "threshold"),
}


@pytest.mark.parametrize("case", sorted(CASES))
def test_bad_input_is_refused_naming_the_argument(case):
    call, error, pattern = CASES[case]
    with pytest.raises(error, match=pattern):
        call()
