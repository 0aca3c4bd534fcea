"""Bad input to chapter 04's public API is refused with one clear sentence that names the argument (issue 15).

Each case: what is called, the exception it must raise, and words the message must contain (the argument's
name, plus the fix where there is one, e.g. "divide by 255")."""

import numpy as np
import pytest
import torch
import torch.nn as nn

from course_utils import cnn
from course_utils.gan import evaluation, losses, models, training, views

IMAGES = torch.rand(8, 1, 28, 28, generator=torch.Generator().manual_seed(0))
LOGITS = torch.zeros(4, 1)
CENTERS = evaluation.ring_centers(8, 2.0)
FRAMES, STEPS = [torch.rand(4, 1, 28, 28) for _ in range(3)], [1, 2, 3]


def _gan():
    return training.make_gan("gan_dcgan", latent_dim=8, channels=4)


def _toy():
    return models.GAN(models.ToyGenerator(2, hidden_dim=8, depth=1), models.mlp(2, 1, hidden_dim=8, depth=1))


def _fit(X=IMAGES, name="gan_dcgan", model=None, **kw):
    settings = {"num_epochs": 1, "batch_size": 4, "snapshot_every": 1} | kw
    return training.fit_variant(model if model is not None else _gan(), name, X, **settings)


def _classifier():
    return cnn.models.FashionCNN(channels=(4, 4, 4)).eval()


CASES = [
    # training: pixels, variants, the trainer's arguments
    ("to_gan_range uint8", lambda: training.to_gan_range((IMAGES * 255).to(torch.uint8)), TypeError, ["images", "divide by 255"]),
    ("to_gan_range 0..255", lambda: training.to_gan_range(IMAGES * 255), ValueError, ["images", "divide by 255"]),
    ("to_gan_range list", lambda: training.to_gan_range([0.0, 1.0]), TypeError, ["images"]),
    ("to_gan_range NaN", lambda: training.to_gan_range(torch.tensor([0.5, float("nan")])), ValueError, ["images", "NaN"]),
    ("to_gan_range empty", lambda: training.to_gan_range(torch.zeros(0)), ValueError, ["images", "empty"]),
    ("to_gan_range negative", lambda: training.to_gan_range(IMAGES * 2 - 1), ValueError, ["images", "[0, 1]"]),
    ("fit_variant uint8", lambda: _fit((IMAGES * 255).to(torch.uint8)), ValueError, ["X", "divide by 255"]),
    ("fit_variant 0..255", lambda: _fit(IMAGES * 255), ValueError, ["X", "divide by 255"]),
    ("fit_variant shape", lambda: _fit(IMAGES[:, 0]), ValueError, ["X", "(N, 1, 28, 28)"]),
    ("fit_variant name", lambda: _fit(name="stylegan"), ValueError, ["name", "stylegan"]),
    ("fit_variant model", lambda: _fit(model=nn.Linear(2, 2)), TypeError, ["model"]),
    ("fit_variant snapshot_every", lambda: _fit(snapshot_every=0), ValueError, ["snapshot_every"]),
    ("fit_variant z_fixed", lambda: _fit(z_fixed=torch.randn(4, 3)), ValueError, ["z_fixed", "(N, 8)"]),
    ("fit_variant batch_size", lambda: _fit(batch_size=0), ValueError, ["batch_size"]),
    ("fit_variant num_epochs", lambda: _fit(num_epochs=0), ValueError, ["num_epochs"]),
    ("make_gan name", lambda: training.make_gan("stylegan"), ValueError, ["name", "stylegan"]),
    ("load_variant name", lambda: training.load_variant("dcgan"), ValueError, ["name", "dcgan"]),
    ("frames_from_meta None", lambda: training.frames_from_meta(None), TypeError, ["meta"]),
    ("frames_from_meta empty", lambda: training.frames_from_meta({}), ValueError, ["grid_frames"]),
    ("SampleGrids z_fixed", lambda: training.SampleGrids("z", every=1), TypeError, ["z_fixed"]),
    ("SampleGrids every", lambda: training.SampleGrids(torch.randn(2, 2), every=0), ValueError, ["every"]),
    ("SampleGrids z_fixed NaN", lambda: training.SampleGrids(torch.full((2, 2), float("nan")), every=1), ValueError,
     ["z_fixed", "NaN"]),
    ("SampleGrids z_fixed int", lambda: training.SampleGrids(torch.zeros(2, 2, dtype=torch.long), every=1), ValueError,
     ["z_fixed", "float"]),
    ("CriticEstimate real NaN", lambda: training.CriticEstimate(torch.full((4, 2), float("nan")), torch.randn(4, 2), 5),
     ValueError, ["real", "NaN"]),
    ("CriticEstimate real int", lambda: training.CriticEstimate(torch.zeros(4, 2, dtype=torch.long), torch.randn(4, 2), 5),
     ValueError, ["real", "float"]),
    ("CriticEstimate z_fixed NaN", lambda: training.CriticEstimate(torch.zeros(4, 2), torch.full((4, 2), float("nan")), 5),
     ValueError, ["z_fixed"]),
    ("earth_movers_distance str", lambda: evaluation.earth_movers_distance("ab", torch.zeros(2, 2)), TypeError, ["a", "(N, dim)"]),
    ("earth_movers_distance None", lambda: evaluation.earth_movers_distance(torch.zeros(2, 2), None), TypeError, ["b"]),
    ("earth_movers_distance complex", lambda: evaluation.earth_movers_distance(torch.zeros(3, 2, dtype=torch.cfloat),
                                                                               torch.zeros(3, 2)), TypeError, ["a", "real"]),
    # the steps
    ("gan_step loss", lambda: training.gan_step("hinge"), AssertionError, ["loss", "hinge"]),
    ("gan_step wgan loss", lambda: training.gan_step("wgan_gp"), AssertionError, ["loss", "wgan_gp"]),
    ("gan_step d_steps", lambda: training.gan_step(d_steps=0), AssertionError, ["d_steps"]),
    ("gan_step optimizer", lambda: training.gan_step()(_toy(), (torch.randn(4, 2),), torch.optim.SGD(_toy().parameters(), 0.1)),
     AssertionError, ["optimizer", '{"G": ..., "D": ...}']),
    ("wgan_gp_step gp_weight", lambda: training.wgan_gp_step(gp_weight=-1.0), AssertionError, ["gp_weight"]),
    ("wgan_gp_step d_steps", lambda: training.wgan_gp_step(d_steps=1.5), AssertionError, ["d_steps"]),
    ("wgan_gp_step optimizer", lambda: training.wgan_gp_step()(_toy(), (torch.randn(4, 2),), None), AssertionError, ["optimizer"]),
    # losses
    ("generator_loss kind", lambda: losses.generator_loss(LOGITS, "minimax"), ValueError, ["kind", "minimax"]),
    ("generator_loss list", lambda: losses.generator_loss([0.0, 1.0]), TypeError, ["fake_logits"]),
    ("discriminator_loss numpy", lambda: losses.discriminator_loss(np.zeros((4, 1)), LOGITS), TypeError, ["real_logits"]),
    ("discriminator_loss int", lambda: losses.discriminator_loss(LOGITS, torch.zeros(4, 1, dtype=torch.long)), TypeError,
     ["fake_logits"]),
    ("critic_loss list", lambda: losses.critic_loss([1.0], torch.zeros(1)), TypeError, ["real_scores"]),
    ("gradient_penalty shapes", lambda: losses.gradient_penalty(nn.Linear(2, 1), torch.zeros(4, 2), torch.zeros(3, 2)),
     AssertionError, ["real and fake", "shape"]),
    # models
    ("GAN G without latent_dim", lambda: models.GAN(nn.Linear(2, 2), nn.Linear(2, 1)), ValueError, ["G", "latent_dim"]),
    ("GAN D not a module", lambda: models.GAN(models.ToyGenerator(), "D"), TypeError, ["D"]),
    ("GAN.sample_z float", lambda: _toy().sample_z(2.5), ValueError, ["num_samples"]),
    ("GAN.sample_z negative", lambda: _toy().sample_z(-1), ValueError, ["num_samples"]),
    ("Discriminator norm", lambda: models.Discriminator(norm="layer"), AssertionError, ["norm", "layer"]),
    ("mlp hidden_dim", lambda: models.mlp(2, 1, hidden_dim=0), ValueError, ["hidden_dim"]),
    # evaluation: the Fréchet distance, coverage, the classifier
    ("gaussian_frechet not PSD", lambda: evaluation.gaussian_frechet(np.zeros(3), -np.eye(3), np.zeros(3), np.eye(3)),
     ValueError, ["cov1", "positive semi-definite"]),
    ("gaussian_frechet not symmetric", lambda: evaluation.gaussian_frechet(np.zeros(2), np.eye(2), np.zeros(2),
                                                                            np.array([[1.0, 0.9], [0.0, 1.0]])),
     ValueError, ["cov2", "symmetric"]),
    ("gaussian_frechet NaN mean", lambda: evaluation.gaussian_frechet([np.nan, 0.0], np.eye(2), [0.0, 0.0], np.eye(2)),
     ValueError, ["mu1", "NaN"]),
    ("gaussian_frechet shapes", lambda: evaluation.gaussian_frechet(np.zeros(2), np.eye(3), np.zeros(2), np.eye(2)),
     ValueError, ["cov1"]),
    ("frechet_distance 1-D", lambda: evaluation.frechet_distance(np.zeros(5), np.zeros((5, 2))), ValueError, ["feats_a"]),
    ("frechet_distance NaN", lambda: evaluation.frechet_distance(np.zeros((5, 2)), np.full((5, 2), np.nan)), ValueError,
     ["feats_b", "NaN"]),
    ("class_coverage floats", lambda: evaluation.class_coverage(np.array([0.5, 1.0])), ValueError, ["predicted", "integer"]),
    ("class_coverage out of range", lambda: evaluation.class_coverage(np.array([3, 10])), ValueError, ["predicted", "[0, 10)"]),
    ("class_coverage empty", lambda: evaluation.class_coverage([]), ValueError, ["predicted", "non-empty"]),
    ("class_coverage min_share 0", lambda: evaluation.class_coverage(np.arange(10), min_share=0), ValueError, ["min_share"]),
    ("class_coverage min_share 1.5", lambda: evaluation.class_coverage(np.arange(10), min_share=1.5), ValueError, ["min_share"]),
    ("class_coverage num_classes", lambda: evaluation.class_coverage(np.arange(2), num_classes=2.5), ValueError,
     ["num_classes"]),
    ("embed classifier", lambda: evaluation.embed(nn.Linear(2, 2), IMAGES), TypeError, ["classifier"]),
    ("embed uint8", lambda: evaluation.embed(_classifier(), (IMAGES * 255).to(torch.uint8)), TypeError,
     ["images", "divide by 255"]),
    ("embed 0..255", lambda: evaluation.embed(_classifier(), IMAGES * 255), ValueError, ["images", "divide by 255"]),
    ("embed [-1, 1]", lambda: evaluation.embed(_classifier(), IMAGES * 2 - 1), ValueError, ["images", "(x + 1) / 2"]),
    ("embed NaN", lambda: evaluation.embed(_classifier(), IMAGES * float("nan")), ValueError, ["images", "NaN"]),
    ("scores real_features", lambda: evaluation.scores(_classifier(), IMAGES, torch.zeros(8)), ValueError, ["real_features"]),
    ("fit_classifier y length", lambda: evaluation.fit_classifier(_classifier(), IMAGES, torch.zeros(7, dtype=torch.long)),
     ValueError, ["y", "one per image"]),
    ("fit_classifier float y", lambda: evaluation.fit_classifier(_classifier(), IMAGES, torch.zeros(8), batch_size=4, num_epochs=1),
     ValueError, ["y", "integer labels"]),
    ("fashion_classifier data", lambda: evaluation.fashion_classifier(use_checkpoint=False, data=IMAGES), TypeError, ["data"]),
    # the toy ring and mode counting
    ("ring_of_gaussians num_modes", lambda: evaluation.ring_of_gaussians(10, num_modes=0), ValueError, ["num_modes"]),
    ("ring_of_gaussians num_samples", lambda: evaluation.ring_of_gaussians(0), ValueError, ["num_samples"]),
    ("ring_of_gaussians std", lambda: evaluation.ring_of_gaussians(10, std=0), ValueError, ["std"]),
    ("ring_centers radius", lambda: evaluation.ring_centers(8, radius=0), ValueError, ["radius"]),
    ("count_modes NaN", lambda: evaluation.count_modes(torch.full((10, 2), float("nan")), CENTERS, 0.15), ValueError,
     ["samples", "NaN"]),
    ("count_modes shape", lambda: evaluation.count_modes(torch.zeros(10, 3), CENTERS, 0.15), ValueError, ["samples", "(N, 2)"]),
    ("count_modes no centers", lambda: evaluation.count_modes(torch.zeros(10, 2), torch.zeros(0, 2), 0.15), ValueError,
     ["centers"]),
    ("count_modes max_dist", lambda: evaluation.count_modes(torch.zeros(10, 2), CENTERS, -1.0), ValueError, ["max_dist"]),
    ("count_modes min_share", lambda: evaluation.count_modes(torch.zeros(10, 2), CENTERS, 0.15, min_share=0), ValueError,
     ["min_share"]),
    # views
    ("interpolate num_steps", lambda: views.interpolate(torch.ones(2), torch.zeros(2), 1), ValueError, ["num_steps"]),
    ("interpolate sizes", lambda: views.interpolate(torch.ones(2), torch.ones(3), 5), ValueError, ["z_a and z_b"]),
    ("interpolate zero slerp", lambda: views.interpolate(torch.zeros(2), torch.ones(2), 5, spherical=True), ValueError,
     ["z_a", "non-zero"]),
    ("interpolate NaN", lambda: views.interpolate(torch.tensor([np.nan, 0.0]), torch.ones(2), 5), ValueError, ["z_a"]),
    ("interpolation_view G", lambda: views.interpolation_view(nn.Linear(2, 2)), ValueError, ["G", "latent_dim"]),
    ("interpolation_view num_steps", lambda: views.interpolation_view(models.ToyGenerator(), num_steps="9"), ValueError,
     ["num_steps"]),
    ("interpolation_figure num_pairs", lambda: views.interpolation_figure(models.ToyGenerator(), num_pairs=0), ValueError,
     ["num_pairs"]),
    ("progress_frames lengths", lambda: views.progress_frames(FRAMES, STEPS[:2], 10), ValueError, ["frames and steps"]),
    ("progress_figure num_snapshots", lambda: views.progress_figure(FRAMES, STEPS, 10, num_snapshots=0), ValueError,
     ["num_snapshots"]),
    ("progress_view steps_per_epoch", lambda: views.progress_view(FRAMES, STEPS, 0), ValueError, ["steps_per_epoch"]),
    ("sample_grids_figure colour", lambda: views.sample_grids_figure({"x": torch.rand(4, 3, 28, 28)}), ValueError, ["images"]),
    ("sample_grids_figure empty", lambda: views.sample_grids_figure({}), ValueError, ["grids"]),
    ("class_shares_figure length", lambda: views.class_shares_figure({"real": np.ones(3)}, ["a", "b"]), ValueError,
     ["shares", "classes"]),
    ("training_curves_figure key", lambda: views.training_curves_figure({"run": {"d_loss": [1.0]}}), ValueError, ["g_loss"]),
    ("ring_snapshots_figure runs", lambda: views.ring_snapshots_figure(torch.zeros(4, 2), {}, CENTERS), ValueError, ["runs"]),
    ("ring_snapshots_figure real", lambda: views.ring_snapshots_figure(torch.zeros(4, 3), {"a": ([torch.zeros(2, 2)], [1])},
                                                                       CENTERS), ValueError, ["real", "(N, 2)"]),
]


@pytest.mark.parametrize("call, error, words", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_with_a_sentence_naming_it(call, error, words):
    with pytest.raises(error) as caught:
        call()
    message = str(caught.value)
    assert all(w in message for w in words), f"{message!r} should mention {words}"
    assert "\n" not in message.strip(), "one sentence, not a traceback"
