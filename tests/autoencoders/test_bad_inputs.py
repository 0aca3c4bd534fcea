"""Bad input to chapter 05's public functions is refused with one clear sentence that names the offending argument.

Each case: a call that must fail, the exception type it must raise, and the words its message must contain (the
argument's name; for pixels in 0..255, also what to do). ``python tests/autoencoders/test_bad_inputs.py`` prints
how each case fares (clear / obscure / silent) against whatever ``course_utils`` is importable.
"""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.nn as nn


def _cases(models=None, training=None, views=None, measures=None):
    if models is None:
        from course_utils.autoencoders import models, training, views
    if measures is None:
        from course_utils.autoencoders import measures

    X = torch.rand(16, 1, 28, 28, generator=torch.Generator().manual_seed(0))
    nan = X.clone()
    nan[3, 0, 5, 5] = math.nan
    imgs, recs = X[:4], {2: X[4:8], 8: X[8:12]}
    noisy, denoised = {0.1: X[4:8], 0.5: X[8:12]}, {0.1: X[:4], 0.5: X[:4]}
    emb, labels, classes = torch.randn(16, 2).numpy(), torch.arange(16) % 3, ["a", "b", "c"]

    def ae():
        return models.MLPAutoencoder(4, hidden_dims=(8,))

    def fit(**kwargs):
        args = {"model": ae(), "X": X, "num_epochs": 1, "batch_size": 8} | kwargs
        return training.fit_autoencoder(args.pop("model"), args.pop("X"), **args)

    return [
        # models
        ("MLP latent_dim 0", lambda: models.MLPAutoencoder(0), ValueError, "latent_dim=0"),
        ("MLP latent_dim float", lambda: models.MLPAutoencoder(2.5), ValueError, "latent_dim=2.5"),
        ("MLP hidden_dims int", lambda: models.MLPAutoencoder(8, hidden_dims=256), ValueError, "hidden_dims=256"),
        ("MLP hidden_dims negative", lambda: models.MLPAutoencoder(8, hidden_dims=(64, -1)), ValueError, "hidden_dims=(64, -1)"),
        ("MLP output unknown", lambda: models.MLPAutoencoder(8, output="relu"), ValueError, "output='relu'"),
        ("MLP dropout 1.5", lambda: models.MLPAutoencoder(8, dropout=1.5), ValueError, "dropout=1.5"),
        ("MLP dropout str", lambda: models.MLPAutoencoder(8, dropout="0.1"), ValueError, "dropout='0.1'"),
        ("MLP in_features (cannot work)", lambda: models.MLPAutoencoder(8, in_features=100), TypeError, "in_features"),
        ("Conv decoder unknown", lambda: models.ConvAutoencoder(8, decoder="pixelshuffle"), ValueError, "decoder='pixelshuffle'"),
        ("Conv channels one", lambda: models.ConvAutoencoder(8, channels=(16,)), ValueError, "channels=(16,)"),
        ("Conv latent_dim negative", lambda: models.ConvAutoencoder(-3), ValueError, "latent_dim=-3"),
        # training: losses and steps
        ("loss unknown", lambda: training.reconstruction_loss(X, X, loss="huber"), ValueError, "loss"),
        ("loss shapes differ", lambda: training.reconstruction_loss(X.flatten(1), X, "mse"), ValueError, "x_hat"),
        ("bce outside [0, 1]", lambda: training.reconstruction_loss(X * 2 - 1, X), ValueError, "x_hat"),
        ("step loss unknown", lambda: training.autoencoder_step("huber"), ValueError, "loss='huber'"),
        ("step l1_code negative", lambda: training.autoencoder_step("mse", l1_code=-1), ValueError, "l1_code=-1"),
        ("add_noise std negative", lambda: training.add_noise(-0.1), ValueError, "std"),
        ("add_noise std str", lambda: training.add_noise("0.3"), ValueError, "std"),
        ("add_noise generator int", lambda: training.add_noise(0.3, generator=0), TypeError, "generator"),
        # training: fit_autoencoder
        ("fit pixels 0..255", lambda: fit(X=X * 255), ValueError, ("X ", "divide by 255")),
        ("fit uint8 pixels", lambda: fit(X=(X * 255).to(torch.uint8)), ValueError, ("X ", "divide by 255")),
        ("fit target 0..255", lambda: fit(target=X * 255), ValueError, ("target", "divide by 255")),
        ("fit NaN pixel", lambda: fit(X=nan), ValueError, ("X ", "NaN")),
        ("fit flat images", lambda: fit(X=X.flatten(1)), ValueError, ("X ", "(N, 1, 28, 28)")),
        ("fit no images", lambda: fit(X=X[:0]), ValueError, "X "),
        ("fit list of images", lambda: fit(X=X.tolist()), ValueError, "X "),
        ("fit target length", lambda: fit(target=X[:8]), ValueError, "target"),
        ("fit not an autoencoder", lambda: fit(model=nn.Linear(784, 784)), TypeError, "model"),
        ("fit num_epochs 0", lambda: fit(num_epochs=0), ValueError, "num_epochs"),
        ("fit lr 0", lambda: fit(lr=0), ValueError, "lr"),
        ("fit loss unknown", lambda: fit(loss="huber"), ValueError, "loss"),
        ("fit batch_size 0", lambda: fit(batch_size=0), ValueError, "batch_size"),
        ("fit batch larger than data", lambda: fit(batch_size=64), ValueError, "batch_size"),
        ("fit transform str", lambda: fit(transform="noise"), TypeError, "transform"),
        ("fit bce on [-1, 1] data", lambda: fit(X=X * 2 - 1), ValueError, ("target", "mse")),
        ("fit device unknown", lambda: fit(device="gpu"), ValueError, "device"),
        ("fit seed str", lambda: fit(seed="0"), TypeError, "seed"),
        ("fit l1_code negative", lambda: fit(l1_code=-1.0), ValueError, "l1_code"),
        ("fit X_val [-1, 1] with bce", lambda: fit(X_val=X * 2 - 1), ValueError, ("X_val", "mse")),
        ("fit X_val uint8", lambda: fit(X_val=(X * 255).to(torch.uint8)), ValueError, ("X_val", "divide by 255")),
        ("fit X_val empty", lambda: fit(X_val=X[:0]), ValueError, "X_val"),
        ("fit lr True", lambda: fit(lr=True), ValueError, "lr"),
        ("fit lr inf", lambda: fit(lr=math.inf), ValueError, "lr"),
        # measures
        ("sharpness uint8 pixels", lambda: measures.sharpness((X * 255).to(torch.uint8)), TypeError, ("images", "divide by 255")),
        ("sharpness bool pixels", lambda: measures.sharpness(X > 0.5), TypeError, "images"),
        ("sharpness complex pixels", lambda: measures.sharpness(X.to(torch.cfloat)), TypeError, "images"),
        ("power_spectrum uint8 pixels", lambda: measures.power_spectrum((X * 255).to(torch.uint8)), TypeError, "images"),
        ("grid_power_share uint8 pixels", lambda: measures.grid_power_share((X * 255).to(torch.uint8)), TypeError, "images"),
        ("agreement no points", lambda: measures.neighbour_label_agreement(torch.zeros(0, 2), torch.zeros(0)), ValueError,
         "points"),
        ("agreement fractional labels", lambda: measures.neighbour_label_agreement(emb, torch.linspace(0, 2.5, 16), k=3),
         ValueError, "labels"),
        ("agreement bool labels", lambda: measures.neighbour_label_agreement(emb, labels == 1, k=3), ValueError, "labels"),
        ("agreement str labels", lambda: measures.neighbour_label_agreement(emb, ["a"] * 16, k=3), TypeError, "labels"),
        ("agreement str points", lambda: measures.neighbour_label_agreement("points", labels, k=3), TypeError, "points"),
        # training: scores
        ("errors pixels 0..255", lambda: training.reconstruction_errors(ae(), X * 255), ValueError, ("X ", "divide by 255")),
        ("errors target shape", lambda: training.reconstruction_errors(ae(), X, target=X[:3]), ValueError, "target"),
        ("errors flat X", lambda: training.reconstruction_errors(ae(), X.flatten(1)), ValueError, "X "),
        ("errors model str", lambda: training.reconstruction_errors("model", X), TypeError, "model"),
        ("roc no normal scores", lambda: training.anomaly_roc_auc([], [1.0]), ValueError, "scores_normal"),
        ("roc NaN score", lambda: training.anomaly_roc_auc([0.1, math.nan], [1.0]), ValueError, "scores_normal"),
        ("encode_all uint8", lambda: training.encode_all(ae(), (X * 255).to(torch.uint8)), ValueError, ("X ", "divide by 255")),
        ("encode_all (N, 28, 28)", lambda: training.encode_all(ae(), X[:, 0]), ValueError, "X "),
        ("encode_all no encode", lambda: training.encode_all(nn.Linear(784, 4), X), TypeError, "model"),
        # views
        ("rows empty", lambda: views.labelled_rows({}), ValueError, "rows"),
        ("rows 0..255", lambda: views.labelled_rows({"a": X * 255}), ValueError, ("rows['a']", "divide by 255")),
        ("rows [-1, 1]", lambda: views.labelled_rows({"a": X * 2 - 1}), ValueError, "rows['a']"),
        ("rows NaN", lambda: views.labelled_rows({"a": nan}), ValueError, "rows['a']"),
        ("latent view errors missing", lambda: views.latent_size_view(imgs, recs, {2: 0.05}), ValueError, "errors"),
        ("latent view fewer decoded", lambda: views.latent_size_view(imgs, {2: X[:2], 8: X[:4]}, {2: 0.1, 8: 0.1}),
         ValueError, "reconstructions[2]"),
        ("latent view nothing", lambda: views.latent_size_view(imgs, {}, {}), ValueError, "reconstructions"),
        ("latent figure str keys", lambda: views.latent_size_figure(imgs, {"two": X[:4]}, {"two": 0.1}), ValueError, "reconstructions"),
        ("latent view 0..255 images", lambda: views.latent_size_view(imgs * 255, recs, {2: 0.1, 8: 0.1}), ValueError,
         ("images", "divide by 255")),
        ("denoising flat clean", lambda: views.denoising_view(imgs.flatten(1), noisy, denoised), ValueError, "clean"),
        ("denoising fewer noisy images", lambda: views.denoising_view(imgs, {0.1: X[:2], 0.5: X[:4]}, denoised), ValueError,
         "noisy[0.1]"),
        ("denoising level missing", lambda: views.denoising_view(imgs, noisy, {0.1: imgs}), ValueError, "denoised"),
        ("denoising figure unknown level", lambda: views.denoising_figure(imgs, noisy, denoised, levels=[0.9], num_images=3), ValueError, "levels"),
        ("denoising figure num_images", lambda: views.denoising_figure(imgs, noisy, denoised, levels=[0.5], num_images=10),
         ValueError, "num_images"),
        ("tsne codes 1-D", lambda: views.tsne_embedding(torch.zeros(100)), ValueError, "codes"),
        ("tsne codes NaN", lambda: views.tsne_embedding(torch.full((100, 4), math.nan)), ValueError, "codes"),
        ("tsne codes all one point", lambda: views.tsne_embedding(torch.ones(100, 4)), ValueError, "codes"),
        ("tsne codes list", lambda: views.tsne_embedding([[0.0, 1.0]] * 100), TypeError, "codes"),
        ("tsne perplexity 0", lambda: views.tsne_embedding(torch.randn(100, 4), perplexity=0), ValueError, "perplexity"),
        ("tsne view labels short", lambda: views.tsne_view(emb, labels[:10], classes, X, X), ValueError, "labels"),
        ("tsne view label not a class", lambda: views.tsne_view(emb, labels + 3, classes, X, X), ValueError, "labels"),
        ("tsne view embedding 3-D", lambda: views.tsne_view(torch.randn(16, 3).numpy(), labels, classes, X, X), ValueError,
         "embedding"),
        ("tsne view reconstructions shape", lambda: views.tsne_view(emb, labels, classes, X, X[:, :, :14]), ValueError,
         "reconstructions"),
        ("tsne figure pick out of range", lambda: views.tsne_figure(emb, labels, classes, X, X, picks=[99]), ValueError, "picks"),
        ("tsne figure no picks", lambda: views.tsne_figure(emb, labels, classes, X, X, picks=[]), ValueError, "picks"),
    ]


CASES = _cases()


def _words(word) -> tuple:
    return word if isinstance(word, tuple) else (word,)


@pytest.mark.parametrize("name,call,exc,word", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(name, call, exc, word):
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    for w in _words(word):
        assert w in message, f"{name}: the message does not name {w!r}: {message}"
    assert message.count("\n") == 0 and len(message) < 400, f"{name}: not one clear sentence: {message}"


def test_there_are_enough_cases():
    assert len(CASES) >= 30


def classify(case) -> str:
    """'clear' (right type, names the argument), 'obscure' (another error or no name) or 'silent' (no error)."""
    name, call, exc, word = case
    try:
        call()
    except exc as err:
        return "clear" if all(w in str(err) for w in _words(word)) else "obscure"
    except Exception:  # noqa: BLE001
        return "obscure"
    return "silent"


if __name__ == "__main__":
    from collections import Counter

    outcomes = Counter()
    for case in _cases():
        outcome = classify(case)
        outcomes[outcome] += 1
        if outcome != "clear":
            print(f"{outcome:8s} {case[0]}")
    print(dict(outcomes), "of", sum(outcomes.values()), file=sys.stderr)
