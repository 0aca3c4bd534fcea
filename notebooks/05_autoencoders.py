# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 05 · Autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dla-interactive/deep-learning-architectures/blob/main/notebooks/05_autoencoders.ipynb)
#
# **After this chapter you can**
# - build an encoder–bottleneck–decoder network, count its parameters and state its compression ratio;
# - say why a code wider than the input learns little, and measure it;
# - compare a nonlinear autoencoder with PCA, the linear autoencoder, at several code sizes, and read the "elbow";
# - pick an output activation and a reconstruction loss that fit the data's range;
# - write convolutional decoders with transposed convolutions or upsampling, compute their output size, and
#   recognize checkerboard artifacts;
# - train deep autoencoders end to end or layer by layer, and denoising and sparse autoencoders;
# - use reconstruction error to detect anomalies and report a ROC-AUC;
# - look at a latent space with t-SNE and explain why decoding points between codes gives poor images.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | 20,000 training images, about twenty small autoencoders of a few epochs each, t-SNE of 3,000 codes | <!-- runtime:full -->4.2 min (measured on 2 CPU cores, torch 2.14.1+cu130; every chapter: the README's chapter table)<!-- /runtime --> |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, small t-SNE: checks that everything runs | <!-- runtime:smoke -->31 s (measured on 2 CPU cores, torch 2.14.1+cu130; CI allows 45 s)<!-- /runtime --> |
#
# Prerequisites: chapter 01 (convolutions, output sizes, the course's trainer, the one-cycle learning rate),
# PyTorch `nn.Module`, mean squared error and cross-entropy. Reading order: this chapter needs only chapter 01, and
# the course index suggests reading it *before* chapter 04 (GANs, 01 → 05 → 04 → 06), because chapters 04 and 06
# refer back to its latent-space results.

# %%
# Setup. In Google Colab this installs the course helpers at the version this notebook was written for, quietly
# and without replacing any package Colab ships (so no restart); anywhere else it only checks the installed version.
import sys

COURSE_UTILS_VERSION = "0.3.0"


class SetupError(Exception):
    def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
        return [f"SetupError: {self}"]


if "google.colab" in sys.modules:
    import importlib.metadata
    import subprocess

    try:
        installed = importlib.metadata.version("course_utils")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != COURSE_UTILS_VERSION:
        tag = f"course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@v{COURSE_UTILS_VERSION}"
        main = "course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@main"
        if subprocess.run([sys.executable, "-m", "pip", "install", "-q", tag], capture_output=True).returncode:
            raise SetupError(f"could not install course_utils v{COURSE_UTILS_VERSION} from its tag (not on GitHub yet?). "
                             f'Instead run, in a new cell:  %pip install -q "{main}"  and then this cell again.')
try:
    from course_utils import runtime
except ModuleNotFoundError:
    raise SetupError("course_utils is not installed: run `make lab`, or `pip install -e .` in the course folder.") from None

version_ok = runtime.check_version(COURSE_UTILS_VERSION)

# %% [markdown]
# Everything that decides how long the chapter takes sits in one configuration cell. The left column is the
# full run you read about; the right column is the *smoke* run that CI uses (set `COURSE_SMOKE=1`).

# %%
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import batches, data, plotting, results, runtime, train, widgets
from course_utils.autoencoders import checks, measures, models, training, views
from course_utils.widgets import show_source

chapter_start = time.perf_counter()
cfg = runtime.Config(
    n_train=(20000, 2000),       # a subset: many small autoencoders fit in the time budget
    n_test=(10000, 1000),
    batch_size=(128, 128),
    mlp_epochs=(8, 1),           # every fully connected autoencoder
    conv_epochs=(6, 1),          # every convolutional autoencoder
    greedy_epochs=(2, 1),        # per layer, in greedy layer-wise pretraining
    latent_sizes=((2, 4, 8, 16, 32, 64), (2, 8, 32)),
    lr=(3e-3, 3e-3),             # peak learning rate of Adam's one-cycle schedule
    n_tsne=(3000, 300),          # test codes embedded by t-SNE
    exercise_n_train=(6000, 1000),
    copy_epochs=(10, 1),         # the two linear autoencoders of section 2
    seed=(0, 0),
)
cfg

# %%
runtime.seed_everything(cfg.seed)
device = runtime.get_device()
ds = data.load_fashion_mnist(n_train=cfg.n_train, n_test=cfg.n_test)
X, X_test, y_test = ds.X_train, ds.X_test, ds.y_test
print(ds)
print("device:", device, "| threads:", torch.get_num_threads())

# %%
def fit_ae(model, X, **kwargs):
    """Train an autoencoder with this chapter's settings (kwargs override them); returns the History."""
    settings = dict(num_epochs=cfg.mlp_epochs, lr=cfg.lr, batch_size=cfg.batch_size, device=device, seed=cfg.seed)
    return training.fit_autoencoder(model, X, **(settings | kwargs))


def test_mse(model, X_test=X_test):
    """Mean squared error per pixel on the test images (pixels in [0, 1])."""
    return training.reconstruction_errors(model, X_test.to(device)).mean().item()


# %% [markdown]
# ## 1. Encoder, bottleneck, decoder
#
# An **autoencoder** learns to copy its input through a narrow passage. The **encoder** $f$ maps an image
# $x$ to a short vector $z = f(x)$, the **latent code**; the **decoder** $g$ maps the code back to an image
# $\hat x = g(z)$. Training minimizes a **reconstruction loss** $L(x, \hat x)$, with no labels at all. Because the
# code is much shorter than the image (the **bottleneck**), the network cannot simply copy pixels: it must find
# the few directions in which Fashion-MNIST images actually vary. Drawn with layer widths, encoder and decoder make
# an hourglass: 784 → 256 → 128 → 64 → **32** → 64 → 128 → 256 → 784.
#
# The **compression ratio** is the input size over the code size, here $784 / 32 = 24.5$. The models of this
# chapter live in `course_utils.autoencoders` (chapter 06 reuses them). Each has `encode`, `decode`, and
# `forward(x) = decode(encode(x))`:

# %%
show_source(models.MLPAutoencoder)

# %% [markdown]
# Each fully connected layer has (inputs + 1) × outputs parameters, so the count follows from the widths alone.
# We compute it both ways:

# %%
# NBVAL_CHECK_OUTPUT
mlp_ae = models.MLPAutoencoder(latent_dim=32, hidden_dims=(256, 128, 64))
widths = [784, 256, 128, 64, 32, 64, 128, 256, 784]
by_formula = sum((a + 1) * b for a, b in zip(widths[:-1], widths[1:]))
x = torch.zeros(5, 1, 28, 28)
print("input:", tuple(x.shape), "-> code:", tuple(mlp_ae.encode(x).shape), "-> output:", tuple(mlp_ae(x).shape))
print(f"parameters: {train.count_parameters(mlp_ae):,} (formula: {by_formula:,})")
print(f"compression ratio: 784 / {mlp_ae.latent_dim} = {784 / mlp_ae.latent_dim:.1f}")
assert train.count_parameters(mlp_ae) == by_formula

# %% [markdown]
# Pixels lie in [0, 1], so the decoder ends with a sigmoid and the loss is the per-pixel binary cross-entropy
# (section 4 says why and compares the alternatives). Adam trains it with chapter 01's **one-cycle** learning rate:
# the rate climbs from a small value to its peak `cfg.lr` over the first 20 % of the steps, then anneals to almost
# zero, which lets a short run take large steps early and settle at the end. After every epoch we also score 2,000
# test images, which are never trained on:

# %%
show_source(training.autoencoder_step)
history = fit_ae(mlp_ae, X, verbose=True, X_val=X_test[:2000])
print(f"test MSE per pixel: {test_mse(mlp_ae):.4f}")

# %%
curves = {"epoch": history["epoch"], "training loss (BCE)": history["train_loss"], "test loss (BCE, 2,000 images)": history["val_loss"]}
fig = plotting.plot_history(curves, title="784-256-128-64-32 autoencoder")
fig

# %% [markdown]
# The test loss follows the training loss down and ends close to it: at this budget the model does not overfit.

# %%
train_end, test_end = history["train_loss"][-1], history["val_loss"][-1]
_ = results.claim("The test loss follows the training loss down and ends close to it",
              history["val_loss"][-1] < history["val_loss"][0] and abs(test_end / train_end - 1) < 0.05,
              detail=f"test loss {history['val_loss'][0]:.4f} -> {test_end:.4f}, training loss at the end {train_end:.4f}")

# %%
show_images = X_test[:10]
with torch.no_grad():
    decoded = mlp_ae.eval()(show_images.to(device)).cpu()
fig = views.labelled_rows({"test image": show_images, "decoded from\n32 numbers": decoded})
fig

# %% [markdown]
# The reconstructions keep each garment's shape and brightness but lose fine texture: prints, stripes and logos.
# One number says how much: the **sharpness**, the mean difference between neighbouring pixels, is lower for the
# reconstructions than for the originals. A 32-number code has room for the big picture only.

# %%
sharp_ratio = measures.sharpness(decoded) / measures.sharpness(show_images)
print(f"sharpness of the reconstructions / sharpness of the originals: {sharp_ratio:.2f}")
_ = results.claim("the sharpness is lower for the reconstructions than for the originals", sharp_ratio < 1, detail=f"ratio {sharp_ratio:.2f}")

# %% [markdown]
# ## 2. Undercomplete and overcomplete codes
#
# A code shorter than the input is **undercomplete**; one at least as long is **overcomplete**. An overcomplete
# code does not force the network to learn anything about clothing: with 1,024 code units for 784 pixels it can
# represent the identity exactly (copy pixel $i$ into unit $i$ and back), which has zero error on every input.
# So we feed the models something that is not clothing at all, uniform noise in [0, 1]. A model that learned
# *clothes* cannot reproduce noise; a model that learned to *copy* can.
#
# First the yardstick. The flat grey image 0.5 everywhere is the best constant guess for uniform noise, and its
# error is the noise's variance, $\int_0^1 (u - \tfrac12)^2\,du = 1/12 \approx 0.083$ per pixel. A model does
# better than that on noise only by passing some of the noise through. To keep the comparison clean, both models
# are *linear* (no activation anywhere, trained with MSE), 784 → 32 → 784 and 784 → 1024 → 784, with the same
# data, epochs and learning rate; only the code size differs. Each is scored on the 200 noise images after every epoch:

# %%
noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
flat_grey = torch.full_like(noise, 0.5)
copy_runs, noise_curves = {}, {}
for k in (32, 1024):
    copy_runs[k] = models.MLPAutoencoder(k, hidden_dims=(), output="none")
    noise_curves[k] = fit_ae(copy_runs[k], X, loss="mse", lr=cfg.lr / 3, num_epochs=cfg.copy_epochs, X_val=noise)["val_loss"]
identity = models.MLPAutoencoder(1024, hidden_dims=(), output="none")
with torch.no_grad():  # set by hand, not trained: unit i copies pixel i (i < 784), the other 240 units stay at 0
    identity.encoder[0].weight.copy_(torch.eye(1024, 784)), identity.encoder[0].bias.zero_()
    identity.decoder[0][0].weight.copy_(torch.eye(784, 1024)), identity.decoder[0][0].bias.zero_()

# %%
grey_test, grey_noise = F.mse_loss(torch.full_like(X_test, 0.5), X_test).item(), F.mse_loss(flat_grey, noise).item()
copy_table = {"flat grey 0.5 (no model)": (grey_test, grey_noise)}
copy_table |= {f"linear, {k}-unit code": (test_mse(m), test_mse(m, noise)) for k, m in copy_runs.items()}
copy_table["identity (set by hand)"] = (test_mse(identity), test_mse(identity, noise))
print(f"{'model':<26} {'test images MSE':>16} {'noise MSE':>10} {'noise MSE / flat grey':>22}")
for name, (t, n) in copy_table.items():
    print(f"{name:<26} {t:>16.4f} {n:>10.4f} {n / grey_noise:>22.2f}")

# %%
fig, ax = plotting.new_figure(figsize=(5.5, 3.2))
for k, style in ((32, "o-"), (1024, "s-")):
    ax.plot(range(1, len(noise_curves[k]) + 1), noise_curves[k], style, ms=4, label=f"linear, {k}-unit code")
ax.axhline(grey_noise, color="grey", ls="--", label="flat grey 0.5 (no model)")
ax.set(xlabel="epoch", ylabel="MSE per pixel on the noise images", title="Reproducing noise: narrow against wide code")
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %%
with torch.no_grad():
    rows = {"noise input": noise[:8]} | {f"decoded,\n{k}-unit code": m.eval()(noise[:8].to(device)).cpu().clamp(0, 1)
                                         for k, m in copy_runs.items()}
fig = views.labelled_rows(rows, title="linear autoencoders trained on clothes, fed uniform noise (outputs clipped to [0, 1])")
fig

# %% [markdown]
# The narrow model never gets below the flat grey line: it maps every noise image into its 32-dimensional space of
# garment-like images, so the noise comes back as a blurry garment. The wide model's noise error falls epoch after
# epoch and ends well below the flat grey line: it passes a good part of the noise through (its noise error is a
# fraction of the flat grey's, last column of the table), and its outputs look like the noise input. Its test error is lower than the narrow model's too. Both
# models saw only clothes; the wide one moved towards the identity because nothing in its objective stopped it.
# It is not the identity yet (that would pass 100 %), but every epoch took it closer. Its "code" is longer than the image, so it
# compresses nothing. Low reconstruction error alone therefore proves nothing: an overcomplete autoencoder needs
# another constraint (noise on the input, section 7, or a sparsity penalty on the code, section 8) before its code
# means anything.

# %%
narrow, wide = noise_curves[32], noise_curves[1024]
results.claim("The narrow model never gets below the flat grey line", min(narrow) > grey_noise,
              detail=f"lowest noise MSE {min(narrow):.4f}, flat grey {grey_noise:.4f}")
results.claim("The wide model's noise error falls epoch after epoch and ends well below the flat grey line",
              all(b <= a + 1e-4 for a, b in zip(wide, wide[1:])) and wide[-1] < 0.75 * grey_noise,
              detail="noise MSE by epoch " + " ".join(f"{v:.4f}" for v in wide))
results.claim("it passes a good part of the noise through", 1 - wide[-1] / grey_noise > 0.25,
              detail=f"{1 - wide[-1] / grey_noise:.0%} of the noise variance")
results.claim("every epoch took it closer", all(b <= a + 1e-4 for a, b in zip(wide, wide[1:])),
              detail="noise MSE by epoch " + " ".join(f"{v:.4f}" for v in wide))
_ = results.claim("Its test error is lower than the narrow model's too", test_mse(copy_runs[1024]) < test_mse(copy_runs[32]),
              detail=f"{test_mse(copy_runs[1024]):.4f} vs {test_mse(copy_runs[32]):.4f}")

# %% [markdown]
# ## 3. PCA is the linear autoencoder
#
# Principal component analysis projects the centred image onto the $k$ directions of largest variance and back:
# $\hat x = \mu + W W^\top (x - \mu)$ with $W$ of shape 784 × $k$. That is an autoencoder whose encoder and decoder
# are linear maps, and it is the best such map under squared error: an autoencoder without nonlinearities,
# trained with MSE, can at best reach PCA's error (Baldi and Hornik, 1989). First a check that a linear
# autoencoder trained by gradient descent lands near PCA at the same size:

# %%
from sklearn.decomposition import PCA

X_flat, X_test_flat = X.flatten(1).numpy(), X_test.flatten(1).numpy()


def pca_test_mse(k):
    pca = PCA(n_components=k, random_state=0).fit(X_flat)
    return float(((pca.inverse_transform(pca.transform(X_test_flat)) - X_test_flat) ** 2).mean())


linear_ae = models.MLPAutoencoder(16, hidden_dims=(), output="none")  # 784 -> 16 -> 784, no activation anywhere
fit_ae(linear_ae, X, loss="mse", num_epochs=2 * cfg.mlp_epochs)
print(f"k = 16: PCA test MSE {pca_test_mse(16):.4f}, linear autoencoder trained with MSE {test_mse(linear_ae):.4f}")
_ = results.claim("a linear autoencoder trained by gradient descent lands near PCA at the same size",
              abs(test_mse(linear_ae) / pca_test_mse(16) - 1) < 0.15, detail=f"ratio {test_mse(linear_ae) / pca_test_mse(16):.2f}")

# %% [markdown]
# Now the question that matters: how much do the nonlinear layers buy? We train a nonlinear autoencoder at several
# code sizes $k$ and fit PCA with the same $k$. To keep this many trainings cheap, the sweep uses one hidden layer
# on each side, 784 → 256 → k → 256 → 784 (it also trains faster than section 1's deeper model, see section 6).
# These are the autoencoders the rest of the chapter reuses.

# %%
aes = {}
for k in cfg.latent_sizes:
    aes[k] = models.MLPAutoencoder(k, hidden_dims=(256,))
    fit_ae(aes[k], X)
size_table = {k: {"pca": pca_test_mse(k), "ae": test_mse(aes[k])} for k in cfg.latent_sizes}
print(f"{'k':>3} {'784/k':>6} {'PCA MSE':>8} {'AE MSE':>8} {'AE / PCA':>9}")
for k, r in size_table.items():
    print(f"{k:>3} {784 / k:>6.1f} {r['pca']:>8.4f} {r['ae']:>8.4f} {r['ae'] / r['pca']:>9.2f}")

# %%
fig, ax = plotting.new_figure(figsize=(5.5, 3.3))
ks = list(size_table)
ax.plot(ks, [size_table[k]["pca"] for k in ks], marker="o", label="PCA (linear)")
ax.plot(ks, [size_table[k]["ae"] for k in ks], marker="s", label="autoencoder 784-256-k-256-784")
ax.set(xscale="log", xlabel="latent size k", ylabel="test MSE per pixel", title="Reconstruction error against code size")
ax.set_xticks(ks, [str(k) for k in ks])
ax.minorticks_off()
ax.grid(alpha=0.3)
ax.legend(fontsize=8)
fig

# %% [markdown]
# Read the curve from the left. With very small codes the nonlinear autoencoder is far ahead of PCA: bending the
# code space lets a few numbers describe more than a flat projection can.

# %%
_ = results.claim("With very small codes the nonlinear autoencoder is far ahead of PCA",
              size_table[ks[0]]["ae"] < 0.8 * size_table[ks[0]]["pca"],
              detail=f"k = {ks[0]}: AE {size_table[ks[0]]['ae']:.4f}, PCA {size_table[ks[0]]['pca']:.4f}")

# %% [markdown]
# Each doubling of $k$ helps less than the one before: the curve bends into an **elbow**, after which extra code
# units buy little. Where is it? We call the elbow the first size at which doubling the code removes less than a
# fifth of the autoencoder's error:

# %%
gains = {a: 1 - size_table[b]["ae"] / size_table[a]["ae"] for a, b in zip(ks[:-1], ks[1:])}
for (a, g), b in zip(gains.items(), ks[1:]):
    print(f"k {a:>2} -> {b:>2}: error down {g:.0%}")
elbow = next((a for a, g in gains.items() if g < 0.2), ks[-1])
print(f"elbow of this run: k = {elbow}")
_ = results.claim("Each doubling of k helps less than the one before", all(b < a for a, b in zip(list(gains.values()), list(gains.values())[1:])),
              detail=" ".join(f"{g:.0%}" for g in gains.values()))

# %% [markdown]
# At the largest size PCA **overtakes** the autoencoder: PCA's solution is exact, while the autoencoder has had only
# a few epochs of training, and its 256-unit hidden layers limit what a wide code can carry. The table is what
# *this* budget gives, not a law.

# %%
_ = results.claim("At the largest size PCA overtakes the autoencoder", size_table[ks[-1]]["pca"] < size_table[ks[-1]]["ae"],
              detail=f"k = {ks[-1]}: PCA {size_table[ks[-1]]['pca']:.4f}, AE {size_table[ks[-1]]['ae']:.4f}")

# %% [markdown]
# ## 4. Output activation and loss
#
# The decoder's last activation must produce values in the data's range, and the loss must suit that range:
#
# | data range | output activation | loss |
# |---|---|---|
# | [0, 1] (pixel intensities) | sigmoid | binary cross-entropy, or MSE |
# | [−1, 1] (standardized to it) | tanh | MSE |
# | unbounded (real values) | none | MSE, or MAE (L1) if outliers should count less |
#
# Binary cross-entropy $-[x\log\hat x + (1-x)\log(1-\hat x)]$ treats each pixel's intensity as a probability;
# with a sigmoid its gradient with respect to the pre-activation is simply $\hat x - x$, so it does not stall when
# the sigmoid saturates (MSE's gradient is multiplied by the sigmoid's slope there).
#
# MAE $|x - \hat x|$ is minimized by the *median* of what the code leaves undecided, MSE by the *mean*. The
# textbook expectation: where a pixel could be either dark or bright (an edge that may sit one pixel to the left or
# the right), the mean is a grey blur and the median picks one side, so MAE should give sharper edges. We test that
# expectation rather than assume it. The same architecture (k = 32) is trained with five pairings, and every result
# is measured in the same units, pixels in [0, 1], with section 1's sharpness as the blur measure (reconstructions
# relative to the originals, 1 = as sharp as the data):

# %%
show_source(measures.sharpness)
pairings = {"sigmoid + BCE": (aes[32], False)}  # trained in section 3
for name, output, loss in [("sigmoid + MSE", "sigmoid", "mse"), ("sigmoid + MAE", "sigmoid", "mae"),
                           ("tanh + MSE, data in [-1, 1]", "tanh", "mse"), ("none + MSE", "none", "mse")]:
    model = models.MLPAutoencoder(32, hidden_dims=(256,), output=output)
    scale = output == "tanh"
    fit_ae(model, X * 2 - 1 if scale else X, loss=loss)
    pairings[name] = (model, scale)

# %%
pairing_results = {}
for name, (model, scale) in pairings.items():
    out = train.predict(model, (X_test * 2 - 1 if scale else X_test).to(device)).cpu()
    x_hat = (out + 1) / 2 if scale else out
    pairing_results[name] = {"mse": F.mse_loss(x_hat, X_test).item(), "mae": F.l1_loss(x_hat, X_test).item(),
                             "sharp": measures.sharpness(x_hat) / measures.sharpness(X_test), "images": x_hat.clamp(0, 1),
                             "outside": ((x_hat < 0) | (x_hat > 1)).float().mean().item()}
print(f"{'pairing':<28} {'test MSE':>9} {'test MAE':>9} {'sharpness':>10}")
for name, r in pairing_results.items():
    print(f"{name:<28} {r['mse']:>9.4f} {r['mae']:>9.4f} {r['sharp']:>10.2f}")
for metric, label in [("mse", "lowest test MSE"), ("mae", "lowest test MAE"), ("sharp", "sharpest")]:
    pick = (max if metric == "sharp" else min)(pairing_results, key=lambda n: pairing_results[n][metric])
    print(f"{label}: {pick}")

# %% [markdown]
# The table answers the MAE question: in this run the MAE-trained model is *not* sharper than the BCE- and
# MSE-trained ones. The median argument is about one pixel whose value the code leaves torn between two very
# different values; a 32-number code mostly leaves small variations undecided (how bright a fold, how wide a stripe),
# and there the median and the mean are nearly the same grey. What the table does show is that each loss does
# best on what it measures: among the three sigmoid models, the MAE-trained one has the lowest MAE and the
# MSE-trained one the lowest MSE.

# %%
sigmoid_three = ["sigmoid + BCE", "sigmoid + MSE", "sigmoid + MAE"]
sharp = {n: pairing_results[n]["sharp"] for n in sigmoid_three}
results.claim("in this run the MAE-trained model is not sharper than the BCE- and MSE-trained ones",
              sharp["sigmoid + MAE"] <= max(sharp["sigmoid + BCE"], sharp["sigmoid + MSE"]), detail=f"sharpness {sharp}")
_ = results.claim("among the three sigmoid models, the MAE-trained one has the lowest MAE and the MSE-trained one the lowest MSE",
              min(sigmoid_three, key=lambda n: pairing_results[n]["mae"]) == "sigmoid + MAE"
              and min(sigmoid_three, key=lambda n: pairing_results[n]["mse"]) == "sigmoid + MSE",
              detail=", ".join(f"{n}: MSE {pairing_results[n]['mse']:.4f} MAE {pairing_results[n]['mae']:.4f}" for n in sigmoid_three))

# %% [markdown]
# At full size the five reconstructions look alike, so here are zoomed crops: the centre 14 × 14 pixels of the
# three test images (among the first 200) with the most texture, drawn large, one row per pairing.

# %%
textured = sorted(range(200), key=lambda i: -measures.sharpness(X_test[i:i + 1]))[:3]
crops = {"original": X_test[textured]} | {name.replace(", ", "\n", 1): r["images"][textured] for name, r in pairing_results.items()}
fig = views.crop_rows(crops, box=(7, 7, 14, 14), size=1.25, title="centre 14 x 14 pixels of three textured test images")
fig

# %% [markdown]
# Every pairing that matches the data range learns a usable model, and the differences between pairings are small
# next to the effect of the code size in section 3. The tanh model sees data centred on zero, which often eases
# optimization; the lines under the table name this run's winners. The output without an activation is the
# sharpest partly because it is not confined to [0, 1]: some of its pixels fall outside (printed below), where no
# real pixel lies, and the pictures clip them. Every sharpness ratio is below 1: an autoencoder with a small code
# blurs what it cannot encode.

# %%
spread = max(r["mse"] for r in pairing_results.values()) - min(r["mse"] for r in pairing_results.values())
size_effect = size_table[ks[0]]["ae"] - size_table[ks[-1]]["ae"]
print(f"pixels of the no-activation model outside [0, 1]: {pairing_results['none + MSE']['outside']:.1%}")
results.claim("the differences between pairings are small next to the effect of the code size in section 3", spread < size_effect / 2,
              detail=f"MSE spread across pairings {spread:.4f}, from k = {ks[0]} to {ks[-1]} {size_effect:.4f}")
results.claim("The output without an activation is the sharpest", max(pairing_results, key=lambda n: pairing_results[n]["sharp"]) == "none + MSE",
              detail=", ".join(f"{n} {r['sharp']:.2f}" for n, r in pairing_results.items()))
results.claim("some of its pixels fall outside [0, 1]", pairing_results["none + MSE"]["outside"] > 0,
              detail=f"{pairing_results['none + MSE']['outside']:.2%}")
_ = results.claim("Every sharpness ratio is below 1", all(r["sharp"] < 1 for r in pairing_results.values()),
              detail=", ".join(f"{r['sharp']:.2f}" for r in pairing_results.values()))

# %% [markdown]
# ## 5. Convolutional autoencoders and transposed convolutions
#
# A convolutional encoder downsamples with stride-2 convolutions (chapter 01's output size formula gives
# 28 → 14 → 7). The decoder must go the other way. A **transposed convolution** does exactly that: each input
# pixel *scatters* a copy of the kernel, scaled by its value, into the output, with copies placed $s$ pixels apart;
# where copies overlap they add up. Along one axis the output size is
#
# $$H_\text{out} = (H - 1)\,s - 2p + d\,(k - 1) + p_\text{out} + 1,$$
#
# where $p$ now *removes* rows at the borders and the extra `output_padding` $p_\text{out}$ picks between the
# several input sizes that a strided convolution maps to the same output. `nn.ConvTranspose2d` agrees:

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'H':>3} {'k':>2} {'s':>2} {'p':>2} {'out_pad':>7} | {'ConvTranspose2d':>15} {'formula':>8}  note")
for H, k, s, p, op, note in [(7, 3, 2, 1, 1, "7 -> 14, as in our decoder"), (14, 3, 2, 1, 1, "14 -> 28"),
                             (7, 3, 2, 1, 0, "without output_padding: 13"), (7, 4, 2, 1, 0, "k = 4, s = 2: exact doubling"),
                             (5, 3, 1, 1, 0, "stride 1, p = 1: same size"), (1, 7, 1, 0, 0, "1x1 code -> 7x7 image")]:
    measured = nn.ConvTranspose2d(1, 1, k, stride=s, padding=p, output_padding=op)(torch.zeros(1, 1, H, H)).shape[-1]
    formula = (H - 1) * s - 2 * p + (k - 1) + op + 1
    assert measured == formula
    print(f"{H:>3} {k:>2} {s:>2} {p:>2} {op:>7} | {measured:>15} {formula:>8}  {note}")

# %% [markdown]
# Why "transposed"? A convolution is a linear map $y = Cx$. The transposed convolution with the same kernel applies
# $C^\top$, which is what backpropagation through the convolution computes. So it equals the gradient of
# $\langle \text{conv}(x), y\rangle$ with respect to $x$:

# %%
torch.manual_seed(0)
w, y = torch.randn(4, 3, 3, 3), torch.randn(2, 4, 7, 7)
x = torch.randn(2, 3, 14, 14, requires_grad=True)
(F.conv2d(x, w, stride=2, padding=1) * y).sum().backward()
transposed = F.conv_transpose2d(y, w, stride=2, padding=1, output_padding=1)
print("conv_transpose2d(y) == d<conv(x), y>/dx:", torch.allclose(transposed, x.grad, atol=1e-5), tuple(transposed.shape))

# %% [markdown]
# **Checkerboard artifacts.** When the kernel size is not a multiple of the stride (k = 3, s = 2), the scattered
# copies overlap unevenly: some output pixels receive one copy, some two, some four. Feed a constant input and a
# kernel of ones and you see the overlap count directly. A kernel of 4 with stride 2 overlaps evenly, and the
# alternative, **upsampling** (repeat each pixel, nearest neighbour) followed by an ordinary 3×3 convolution,
# treats every output pixel alike:

# %%
ones = torch.ones(1, 1, 7, 7)
overlap = {"transposed k=3, s=2": F.conv_transpose2d(ones, torch.ones(1, 1, 3, 3), stride=2, padding=1, output_padding=1),
           "transposed k=4, s=2": F.conv_transpose2d(ones, torch.ones(1, 1, 4, 4), stride=2, padding=1),
           "upsample + conv 3x3": F.conv2d(F.interpolate(ones, scale_factor=2), torch.ones(1, 1, 3, 3), padding=1)}
fig, axes = plotting.new_figure(1, 3, figsize=(8, 2.9))
for ax, (name, out) in zip(axes, overlap.items()):
    im = ax.imshow(out[0, 0], cmap="viridis")
    ax.set_title(f"{name}\nvalues {sorted(set(out[0, 0, 2:-2, 2:-2].flatten().tolist()))}", fontsize=8)
    ax.set_axis_off()
    fig.colorbar(im, ax=ax, shrink=0.7)
fig

# %% [markdown]
# (Borders aside, the first map alternates between 1, 2 and 4 copies in a grid pattern; the other two are flat.)
# A network *can* learn kernels that cancel the uneven overlap, but it starts from it. Both decoders are options of
# `models.ConvAutoencoder`. We look at what untrained decoders of each kind make of random codes, and then at the
# same two autoencoders trained.

# %%
show_source(models.ConvAutoencoder)

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(cfg.seed)
conv_aes = {"transposed": models.ConvAutoencoder(32, decoder="transposed"),
            "upsample": models.ConvAutoencoder(32, decoder="upsample")}
x = torch.zeros(2, 1, 28, 28)
for name, model in conv_aes.items():
    print(f"{name:<10} code {tuple(model.encode(x).shape)}, output {tuple(model(x).shape)}, "
          f"{train.count_parameters(model):,} parameters")

# %% [markdown]
# A grid that repeats every 4 pixels (two stride-2 layers: 2 × 2) is easy to miss by eye in a small image, but
# the **2-D power spectrum** finds it: the Fourier transform of the image, squared, shows how much of the image
# varies at each spatial frequency. A pattern with period 4 puts its power on a lattice of isolated frequencies,
# multiples of 28 / 4 = 7 cycles per image, which show as bright dots away from the centre. We print the share of
# the power on that lattice, `measures.grid_power_share`; for a flat spectrum it would be 15/783 ≈ 2 %.

# %%
z = torch.randn(64, 32, generator=torch.Generator().manual_seed(2))
with torch.no_grad():
    untrained = {f"untrained\n{name}": model.decode(3 * z) for name, model in conv_aes.items()}
for name, images in untrained.items():
    print(f"{name.replace(chr(10), ' '):<22} grid power share {measures.grid_power_share(images):.1%}")
fig = views.checkerboard_figure(untrained, n_tiles=3, size=1.6)
fig

# %% [markdown]
# The untrained transposed decoder's tiles carry the grid, and its spectrum shows it as a lattice of bright dots;
# the upsampling decoder's spectrum has no such lattice, and a far smaller share of its power sits there.

# %%
share = {name: measures.grid_power_share(images) for name, images in untrained.items()}
_ = results.claim("the upsampling decoder's spectrum has no such lattice, and a far smaller share of its power sits there",
              share["untrained\ntransposed"] > 3 * share["untrained\nupsample"],
              detail=f"transposed {share['untrained' + chr(10) + 'transposed']:.1%}, upsample {share['untrained' + chr(10) + 'upsample']:.1%}")

# %%
conv_results = {}
for name, model in conv_aes.items():
    start = time.perf_counter()
    fit_ae(model, X, num_epochs=cfg.conv_epochs)
    conv_results[name] = {"mse": test_mse(model), "seconds": time.perf_counter() - start}
conv_results["fully connected, 784-256-32 (section 3)"] = {"mse": test_mse(aes[32]), "seconds": float("nan")}
params = {name: train.count_parameters(m) for name, m in conv_aes.items()} | {"fully connected, 784-256-32 (section 3)": train.count_parameters(aes[32])}
for name, r in conv_results.items():
    seconds = f"training {r['seconds']:.0f} s" if r["seconds"] == r["seconds"] else "(trained earlier)"  # nan: not timed here
    print(f"{name:<40} {params[name]:>8,} parameters   test MSE {r['mse']:.4f}   {seconds}")

# %%
with torch.no_grad():
    recs = {name: m.eval()(X_test[:8].to(device)).cpu() for name, m in conv_aes.items()}
rows = {"original": X_test[:8]} | {f"{name}\ndecoder": r for name, r in recs.items()}
rows |= {f"|error| x 3,\n{name}": ((r - X_test[:8]).abs() * 3).clamp(0, 1) for name, r in recs.items()}
fig = views.labelled_rows(rows)
fig

# %% [markdown]
# After training, both reconstruct about as well as the fully connected model of section 3 with about a quarter
# of its parameters: convolutions reuse their weights at every position, so the model spends its parameters on
# local shapes. The upsampling decoder costs more time, because its convolutions run at the higher resolution.

# %%
fc = conv_results["fully connected, 784-256-32 (section 3)"]["mse"]
results.claim("both reconstruct about as well as the fully connected model of section 3 with about a quarter of its parameters",
              all(abs(conv_results[n]["mse"] / fc - 1) < 0.15 and params[n] < 0.3 * params["fully connected, 784-256-32 (section 3)"] for n in conv_aes),
              detail=", ".join(f"{n} {conv_results[n]['mse']:.4f}" for n in conv_aes) + f", fully connected {fc:.4f}")
_ = results.claim("The upsampling decoder costs more time", conv_results["upsample"]["seconds"] > conv_results["transposed"]["seconds"],
              detail=f"{conv_results['upsample']['seconds']:.0f} s vs {conv_results['transposed']['seconds']:.0f} s")

# %% [markdown]
# Does the *trained* transposed decoder keep a grid? The same spectrum and share, now for the reconstructions of
# 500 test images, beside the test images themselves:

# %%
with torch.no_grad():
    trained = {"test images": X_test[:500]} | {f"trained\n{name}": m.eval()(X_test[:500].to(device)).cpu() for name, m in conv_aes.items()}
trained_share = {name: measures.grid_power_share(images) for name, images in trained.items()}
for name, v in trained_share.items():
    print(f"{name.replace(chr(10), ' '):<20} grid power share {v:.2%}")
fig = views.checkerboard_figure(trained, n_tiles=3, size=1.6)
fig

# %% [markdown]
# After training, the grid is gone: the transposed decoder's reconstructions carry *less* of their power on the grid
# frequencies than the test images themselves (reconstructions are blurrier, so they have less high-frequency power
# of every kind), and about as little as the upsampling decoder's. Training found kernels that cancel the uneven
# overlap. So at this size and budget the checkerboard is a property of the untrained start, and the place to look
# for it is early in training or in decoders asked to draw fine detail, such as the GAN generators of chapter 04
# (Odena et al. 2016 show it there).

# %%
_ = results.claim("the transposed decoder's reconstructions carry less of their power on the grid frequencies than the test images themselves, and about as little as the upsampling decoder's",
              trained_share["trained\ntransposed"] < trained_share["test images"] and trained_share["trained\ntransposed"] < 1.5 * trained_share["trained\nupsample"],
              detail=", ".join(f"{n.replace(chr(10), ' ')} {v:.2%}" for n, v in trained_share.items()))

# %% [markdown]
# ## 6. Deep autoencoders, and greedy layer-wise pretraining
#
# Before batch normalization and good initializations, deep autoencoders were hard to train end to end. Hinton
# and Salakhutdinov (2006) got a deep autoencoder (784-1000-500-250-30) to train by first pretraining it **greedily,
# one layer at a time**, with stacked restricted Boltzmann machines; Bengio et al. (2006) showed that shallow
# *autoencoders* work as the layer-wise building block too. That autoencoder version is what we implement, with
# this course's widths: first a shallow autoencoder 784 → 256 → 784 on the images; then a second one
# 256 → 128 → 256 on the first one's codes; and so on. The trained layers are then stacked into the deep model and
# fine-tuned end to end. Our `MLPAutoencoder` keeps each layer in its own block, so encoder block `k` and its
# mirror `decoder[-1 - k]` form the k-th shallow autoencoder:

# %%
def greedy_pretrain(model, X, num_epochs, lr, batch_size, seed=0):
    """Train each (encoder[k], decoder[-1 - k]) pair as a shallow autoencoder on the codes of the layers below."""
    n = len(model.encoder)
    for k in range(n):
        with torch.no_grad():
            model.eval()
            H = model.encoder[:k](X.flatten(1).to(device)).cpu()  # input of layer k, (N, width)
        pair = nn.Sequential(model.encoder[k], model.decoder[n - 1 - k]).train()
        optimizer = torch.optim.Adam(pair.parameters(), lr=lr)
        loss_fn = F.binary_cross_entropy if k == 0 else F.mse_loss  # pixels in [0, 1]; deeper: ReLU features
        for _ in range(num_epochs):
            for (h,) in batches.Batches(H, batch_size=batch_size, shuffle=True, drop_last=True, device=device, seed=seed):
                loss = loss_fn(pair(h), h)
                optimizer.zero_grad()
                loss.backward()
                optimizer.step()
        print(f"layer {k}: {tuple(H.shape[1:])} -> {model.encoder[k][0].out_features if k < n - 1 else model.latent_dim}"
              f", last batch loss {loss.item():.4f}")
    return model


# %% [markdown]
# The deep model here is the 784-256-128-64-32 hourglass with **batch normalization** after each hidden linear
# layer and a little **dropout** (0.1). The table below has five rows: this model trained end to end from random
# weights; greedy pretraining alone, then followed by end-to-end fine-tuning (two rows of one run); the same model
# without dropout, trained end to end; and, for reference, section 1's model without batch norm or dropout. Every
# end-to-end training gets the same number of epochs.

# %%
deep, deep_seconds = {}, {}
for name, dropout in [("end to end, BN + dropout", 0.1), ("end to end, BN, no dropout", 0.0)]:
    start = time.perf_counter()
    deep[name] = models.MLPAutoencoder(32, batch_norm=True, dropout=dropout)
    fit_ae(deep[name], X)
    deep_seconds[name] = time.perf_counter() - start

start = time.perf_counter()
torch.manual_seed(cfg.seed)
pretrained = greedy_pretrain(models.MLPAutoencoder(32, batch_norm=True, dropout=0.1), X, cfg.greedy_epochs, cfg.lr, cfg.batch_size)
deep["greedy only (no fine-tuning)"] = pretrained
greedy_mse = test_mse(pretrained)
fit_ae(pretrained, X, lr=cfg.lr / 3)
deep_seconds["greedy + fine-tuning"] = time.perf_counter() - start
deep["greedy + fine-tuning"] = pretrained
deep_seconds["plain, no BN or dropout (section 1)"] = sum(history["seconds"])
deep["plain, no BN or dropout (section 1)"] = mlp_ae

# %%
deep_results = {name: (greedy_mse if name.startswith("greedy only") else test_mse(m)) for name, m in deep.items()}
for name, mse in deep_results.items():
    seconds = f"{deep_seconds[name]:>5.0f} s" if name in deep_seconds else ""
    print(f"{name:<37} test MSE {mse:.4f}  {seconds}")

# %% [markdown]
# Read the rows in pairs. Greedy pretraining alone already gives a working deep autoencoder (far better than the
# best constant image, the mean training image), because each layer learned to keep what the next one needs, but its
# errors add up through the stack. Fine-tuning end to end repairs that, and the pretrained model ends up ahead of
# the same model (batch norm + dropout) trained end to end from random weights; the pretraining passes come on top
# of the fine-tuning time.

# %%
mean_image_mse = F.mse_loss(X.mean(0, keepdim=True).expand_as(X_test), X_test).item()
r = deep_results
results.claim("Greedy pretraining alone already gives a working deep autoencoder (far better than the best constant image, the mean training image)",
              r["greedy only (no fine-tuning)"] < mean_image_mse / 2, detail=f"{r['greedy only (no fine-tuning)']:.4f} vs {mean_image_mse:.4f}")
results.claim("Fine-tuning end to end repairs that", r["greedy + fine-tuning"] < r["greedy only (no fine-tuning)"],
              detail=f"{r['greedy only (no fine-tuning)']:.4f} -> {r['greedy + fine-tuning']:.4f}")
_ = results.claim("the pretrained model ends up ahead of the same model (batch norm + dropout) trained end to end from random weights",
              r["greedy + fine-tuning"] < r["end to end, BN + dropout"], detail=f"{r['greedy + fine-tuning']:.4f} vs {r['end to end, BN + dropout']:.4f}")

# %% [markdown]
# A simpler change does better still: drop the dropout. Dropout makes the decoder cope with missing units, a
# regularizer that a reconstruction task of this size does not need. With batch norm, Adam and modern
# initializations, deep autoencoders train end to end, which is why layer-wise pretraining is history today.

# %%
_ = results.claim("A simpler change does better still: drop the dropout", r["end to end, BN, no dropout"] < r["greedy + fine-tuning"],
              detail=f"{r['end to end, BN, no dropout']:.4f} vs {r['greedy + fine-tuning']:.4f}")

# %% [markdown]
# ## 7. Denoising autoencoders
#
# A **denoising autoencoder** (Vincent et al., 2008) gets a corrupted input $\tilde x$ and must reconstruct the
# *clean* $x$: it cannot copy, because the noise is not in the target, so it has to know what clothes look like.
# We add Gaussian noise with a standard deviation drawn per image between 0 and 0.5, clip to [0, 1], and train the
# transposed-conv autoencoder of section 5 again on the noisy-input, clean-target pairs. `fit_autoencoder` corrupts
# only the input of each batch:

# %%
denoiser = models.ConvAutoencoder(32, decoder="transposed")
fit_ae(denoiser, X, num_epochs=cfg.conv_epochs, transform=training.add_noise(0.5, vary=True))
levels = [0.0, 0.1, 0.2, 0.3, 0.4, 0.5, 0.7]
clean = X_test[:500]
noisy = {s: training.add_noise(s, generator=torch.Generator().manual_seed(3))(clean) for s in levels}
denoising = {}
print(f"{'noise std':>9} | {'noisy input':>11} {'plain conv AE':>13} {'denoising AE':>12}  (MSE against the clean image)")
for s in levels:
    plain = training.reconstruction_errors(conv_aes["transposed"], noisy[s].to(device), clean.to(device)).mean().item()
    dae = training.reconstruction_errors(denoiser, noisy[s].to(device), clean.to(device)).mean().item()
    denoising[s] = {"noisy": F.mse_loss(noisy[s], clean).item(), "plain": plain, "dae": dae}
    print(f"{s:>9.1f} | {denoising[s]['noisy']:>11.4f} {plain:>13.4f} {dae:>12.4f}")

# %% [markdown]
# **Denoising slider.** Choose the noise level: the top row is the noisy input the denoising autoencoder receives,
# the middle row its output, the bottom row the clean image it was never shown. Everything is computed for every
# level beforehand; 0.7 is stronger than anything seen in training.

# %% tags=["nbval-ignore-output"]
with torch.no_grad():
    denoised = {s: denoiser.eval()(noisy[s][:8].to(device)).cpu() for s in levels}
captions = {s: f"MSE noisy {r['noisy']:.4f}, denoised {r['dae']:.4f}, plain AE {r['plain']:.4f}" for s, r in denoising.items()}
noise_view = views.denoising_view(clean[:8], {s: v[:8] for s, v in noisy.items()}, denoised, captions)
widgets.show(noise_view, views.denoising_figure(clean[:8], noisy, denoised, levels=[0.2, 0.5, 0.7]))

# %% [markdown]
# The denoising autoencoder's error stays low across the levels it was trained on (within twice its error on clean
# input up to std 0.5) and degrades gently beyond. The plain autoencoder was never asked to undo corruption: its
# output beats the noisy input only at strong noise (from the level printed below), where its narrow code drops much
# of the noise, and its error grows much faster with the noise level. Denoising has a price, though: on clean input
# (noise 0) the denoiser is slightly *worse* than the plain autoencoder, because part of its training went into
# undoing noise that is not there.

# %%
d = denoising
beats = [s for s in levels if d[s]["plain"] < d[s]["noisy"]]
print(f"the plain autoencoder beats its noisy input from noise std {beats[0] if beats else None} on")
results.claim("The denoising autoencoder's error stays low across the levels it was trained on (within twice its error on clean input up to std 0.5)",
              all(d[s]["dae"] < 2 * d[0.0]["dae"] for s in levels if s <= 0.5), detail=" ".join(f"{d[s]['dae']:.4f}" for s in levels))
results.claim("and degrades gently beyond", d[0.7]["dae"] < 2 * d[0.5]["dae"] and d[0.7]["dae"] < d[0.7]["plain"] / 2,
              detail=f"0.7: {d[0.7]['dae']:.4f} (plain {d[0.7]['plain']:.4f})")
results.claim("its output beats the noisy input only at strong noise", bool(beats) and beats == levels[levels.index(beats[0]):] and beats[0] >= 0.2,
              detail=f"beats it at {beats}")
results.claim("its error grows much faster with the noise level",
              d[0.5]["plain"] - d[0.0]["plain"] > 3 * (d[0.5]["dae"] - d[0.0]["dae"]),
              detail=f"from 0 to 0.5: plain +{d[0.5]['plain'] - d[0.0]['plain']:.4f}, denoiser +{d[0.5]['dae'] - d[0.0]['dae']:.4f}")
_ = results.claim("on clean input (noise 0) the denoiser is slightly worse than the plain autoencoder",
              d[0.0]["plain"] < d[0.0]["dae"] < 1.25 * d[0.0]["plain"], detail=f"{d[0.0]['dae']:.4f} vs {d[0.0]['plain']:.4f}")

# %% [markdown]
# ## 8. Sparse autoencoders
#
# Another way to make a wide code useful is to ask that few of its units be active for any one image. A **sparse
# autoencoder** adds a penalty on the code to the loss, here the L1 norm: $L = L_\text{rec}(x, \hat x) + \lambda\,
# \text{mean}\,|z|$. With ReLU code units, L1 pushes many of them to exactly zero. One hidden layer of 256 units
# is enough to see it:

# %%
class SparseAutoencoder(nn.Module):
    """784 -> 256 ReLU code units -> 784; the sparsity comes from the L1 penalty in the training step."""

    def __init__(self, code_units=256):
        super().__init__()
        self.encoder = nn.Sequential(nn.Flatten(), nn.Linear(784, code_units), nn.ReLU())  # (B, 256)
        self.decoder = nn.Sequential(nn.Linear(code_units, 784), nn.Sigmoid())             # (B, 784)

    def encode(self, x):  # (B, 1, 28, 28) -> (B, 256)
        return self.encoder(x)

    def decode(self, z):  # (B, 256) -> (B, 1, 28, 28)
        return self.decoder(z).view(-1, 1, 28, 28)

    def forward(self, x):
        return self.decode(self.encode(x))


# %% [markdown]
# The same model is trained three times, with the penalty weight $\lambda$ at 0 (no penalty), 0.03 and 0.1:

# %%
sparse = {}
for lam in (0.0, 0.03, 0.1):
    sparse[lam] = SparseAutoencoder()
    fit_ae(sparse[lam], X, l1_code=lam)

# %%
print(f"{'lambda':>6} {'test MSE':>9} {'zeros in the code':>18} {'active units per image':>23} {'units never active':>19}")
sparse_results = {}
for lam, model in sparse.items():
    codes = training.encode_all(model, X_test)
    sparse_results[lam] = {"mse": test_mse(model), "zeros": (codes == 0).float().mean().item(),
                           "active": (codes > 0).sum(1).float().mean().item(), "dead": int(((codes > 0).sum(0) == 0).sum())}
    r = sparse_results[lam]
    print(f"{lam:>6} {r['mse']:>9.4f} {r['zeros']:>18.1%} {r['active']:>23.1f} {r['dead']:>19}")

# %% [markdown]
# The stronger the penalty, the fewer units an image switches on, at a cost in reconstruction error. Part of
# the sparsity comes from units that never switch on at all ("dead"), a known side effect of strong L1 on ReLU units.

# %%
lams = list(sparse)
sr = sparse_results
results.claim("The stronger the penalty, the fewer units an image switches on, at a cost in reconstruction error",
              all(sr[b]["active"] < sr[a]["active"] and sr[b]["mse"] > sr[a]["mse"] for a, b in zip(lams, lams[1:])),
              detail=", ".join(f"lambda {lam}: {sr[lam]['active']:.0f} active, MSE {sr[lam]['mse']:.4f}" for lam in lams))
_ = results.claim("Part of the sparsity comes from units that never switch on at all", all(sr[b]["dead"] >= sr[a]["dead"] for a, b in zip(lams, lams[1:]))
              and sr[lams[-1]]["dead"] > sr[lams[0]]["dead"], detail=" ".join(f"{sr[lam]['dead']}" for lam in lams))

# %% [markdown]
# **A loophole in the L1 penalty.** The penalty charges the *size* of the code, not the number of active units. The
# decoder can undo any rescaling: halve every code value and double every decoder weight, and the reconstruction
# is unchanged while the penalty halves. So part of what L1 buys may be small codes read by large decoder weights,
# not fewer units. Ng's notes avoid this with a target average activation (a KL penalty) and sparse coding fixes the
# decoder columns' length to 1. What did our models do? Mean code value of the active units, and mean length of a
# decoder column (the pattern one unit adds), per $\lambda$:

# %%
loophole = {}
for lam, model in sparse.items():
    codes = training.encode_all(model, X_test[:2000])
    column_norms = model.decoder[0].weight.detach().cpu().norm(dim=0)  # one per code unit, (256,)
    loophole[lam] = {"code": codes[codes > 0].mean().item(), "column": column_norms.mean().item()}
    print(f"lambda {lam:>4}: mean active code value {loophole[lam]['code']:.3f}, mean decoder column length {loophole[lam]['column']:.3f}")

# %% [markdown]
# The loophole is used: with the penalty the active code values are about half as large and the decoder columns
# longer. The count of active units fell too (the table above), so the sparsity is real, but part of what the penalty
# "bought" is a rescaling, and a value of $\lambda$ means less than it seems. To close the loophole, rescale every
# decoder column to length 1 after each optimizer step (as sparse coding does), or penalize the decoder weights too.

# %%
_ = results.claim("with the penalty the active code values are about half as large and the decoder columns longer",
              loophole[max(sparse)]["code"] < 0.65 * loophole[0.0]["code"] and loophole[max(sparse)]["column"] > 1.1 * loophole[0.0]["column"],
              detail=f"{loophole}")

# %% [markdown]
# Each decoder column is the pattern a code unit adds to the image. The 12 most used units of each model, each tile
# scaled to its own largest weight: red adds ink, blue removes it.

# %%
fig, axes = plotting.new_figure(2, 12, figsize=(11, 2.6))
for row, lam in zip(axes, (0.0, max(sparse))):
    codes = training.encode_all(sparse[lam], X_test[:2000])
    top = (codes > 0).float().mean(0).argsort(descending=True)[:12]
    patterns = sparse[lam].decoder[0].weight.detach().cpu()[:, top].T.view(-1, 28, 28)
    for ax, p in zip(row, patterns):
        im = ax.imshow(p / p.abs().max(), cmap="RdBu_r", vmin=-1, vmax=1)
        ax.set_axis_off()
    row[0].text(0, 1.08, f"lambda = {lam}: the 12 most used code units", transform=row[0].transAxes, fontsize=8, va="bottom")
cbar = fig.colorbar(im, ax=axes, shrink=0.8, pad=0.01)
cbar.set_label("weight / largest |weight|\n(red adds ink)", fontsize=8)
fig

# %% [markdown]
# Without the penalty the patterns look like noise: each unit adds a little to every image, and only their sum makes
# sense. With it, the most used units become smoother garment shapes and parts, each switched on by fewer images.
# "Smoother" can be measured: neighbouring weights of a pattern differ less, relative to the pattern's size.

# %%
def roughness(model, n=12):
    """Mean neighbour difference of the n most used decoder columns, each divided by its mean |weight|."""
    top = (training.encode_all(model, X_test[:2000]) > 0).float().mean(0).argsort(descending=True)[:n]
    patterns = model.decoder[0].weight.detach().cpu()[:, top].T.view(-1, 1, 28, 28)
    return sum(measures.sharpness(p) / p.abs().mean().item() for p in patterns) / n


rough = {lam: roughness(sparse[lam]) for lam in (0.0, max(sparse))}
print("roughness of the patterns:", {lam: round(v, 2) for lam, v in rough.items()})
_ = results.claim("With it, the most used units become smoother", rough[max(sparse)] < rough[0.0], detail=f"{rough}")

# %% [markdown]
# ## 9. Anomaly detection by reconstruction error
#
# An autoencoder reconstructs well what resembles its training data. So train it on "normal" examples only, and
# use the reconstruction error of a new example as an **anomaly score**. We pretend that three classes, trousers,
# sandals and bags, never occur in training, train the section-1 architecture on the other seven classes, and score
# the whole test set. The ROC-AUC (from scikit-learn) is the probability that a random anomaly scores higher than a
# random normal image: 0.5 is chance, 1 is perfect separation.

# %%
show_source(training.anomaly_roc_auc)
anomaly_classes = [ds.classes.index(c) for c in ("Trouser", "Sandal", "Bag")]
is_anomaly = lambda y: torch.isin(y, torch.tensor(anomaly_classes))  # noqa: E731
detector = models.MLPAutoencoder(32, hidden_dims=(256,))
fit_ae(detector, X[~is_anomaly(ds.y_train)])
scores = training.reconstruction_errors(detector, X_test.to(device))
normal_scores = scores[~is_anomaly(y_test)]
auc = training.anomaly_roc_auc(normal_scores, scores[is_anomaly(y_test)])
print(f"trained on {int((~is_anomaly(ds.y_train)).sum()):,} images of 7 classes; ROC-AUC for all 3 held-out classes: {auc:.3f}")
for c in anomaly_classes:
    print(f"  {ds.classes[c]:<8} vs normal: ROC-AUC {training.anomaly_roc_auc(normal_scores, scores[y_test == c]):.3f}")

# %%
fig, ax = plotting.new_figure(figsize=(6, 3.2))
bins = np.logspace(np.log10(scores.min().item()), np.log10(scores.max().item()), 50)
ax.hist(normal_scores.numpy(), bins=bins, alpha=0.6, density=True, label="normal (7 training classes)")
for c in anomaly_classes:
    ax.hist(scores[y_test == c].numpy(), bins=bins, histtype="step", lw=1.5, density=True, label=ds.classes[c])
ax.set(xscale="log", xlabel="reconstruction error (anomaly score)", ylabel="density", title="Anomaly scores on the test set")
ax.legend(fontsize=8)
fig

# %% [markdown]
# All three held-out classes score higher than the normal images on average, but none is separated perfectly: the
# histograms overlap, because some normal images (a patterned shirt, an unusual dress) are hard to reconstruct too.
# The score measures how badly an image comes back, and detail the code cannot hold counts as much as novelty.
# The per-class numbers tell more than the overall one: check a detector per kind of anomaly before trusting it.

# %%
per_class = {ds.classes[c]: training.anomaly_roc_auc(normal_scores, scores[y_test == c]) for c in anomaly_classes}
results.claim("All three held-out classes score higher than the normal images on average",
              all(scores[y_test == c].mean() > normal_scores.mean() for c in anomaly_classes),
              detail=f"normal mean {normal_scores.mean():.4f}; " + ", ".join(f"{ds.classes[c]} {scores[y_test == c].mean():.4f}" for c in anomaly_classes))
results.claim("none is separated perfectly", all(v < 0.99 for v in per_class.values()), detail=f"{per_class}")
_ = results.claim("the histograms overlap", (normal_scores > scores[is_anomaly(y_test)].median()).float().mean().item() > 0.01,
              detail=f"{(normal_scores > scores[is_anomaly(y_test)].median()).float().mean():.1%} of normal images score above the median anomaly")

# %% [markdown]
# ## 10. Latent-size explorer
#
# The autoencoders of section 3 differ only in their code size. Choose one: the top row is eight test images, the
# bottom row what comes back through a code of that size.

# %% tags=["nbval-ignore-output"]
explorer_images = X_test[:8]
explorer_recs = {k: train.predict(m, explorer_images.to(device)).cpu() for k, m in aes.items()}
explorer_errors = {k: r["ae"] for k, r in size_table.items()}
size_view = views.latent_size_view(explorer_images, explorer_recs, explorer_errors)
widgets.show(size_view, views.latent_size_figure(explorer_images, explorer_recs, explorer_errors))

# %% [markdown]
# With two numbers the decoder can only say roughly *which kind* of garment and how bright; the larger codes add
# the outline, then shading and some of the texture. The sharpness of the reconstructions rises with the code size
# up to k = 32 and then levels off, as the error did in section 3:

# %%
size_sharp = {k: measures.sharpness(r) / measures.sharpness(explorer_images) for k, r in explorer_recs.items()}
print("sharpness of the reconstructions / originals:", "  ".join(f"k {k}: {v:.2f}" for k, v in size_sharp.items()))
rising = [k for k in ks if k <= 32]
_ = results.claim("The sharpness of the reconstructions rises with the code size up to k = 32 and then levels off",
              all(size_sharp[b] > size_sharp[a] for a, b in zip(rising, rising[1:]))
              and all(abs(size_sharp[k] - size_sharp[32]) < 0.03 for k in ks if k > 32),
              detail=", ".join(f"k {k}: {v:.2f}" for k, v in size_sharp.items()))

# %% [markdown]
# ## 11. The latent space
#
# What does the 32-dimensional code space of section 3's 784-256-32 autoencoder (`aes[32]`) look like? **t-SNE**
# (van der Maaten and Hinton, 2008) places points in 2-D so that neighbours in the code space stay neighbours;
# distances between far-apart groups mean little. Its main knob is the **perplexity**, roughly the number of
# neighbours each point tries to keep close (scikit-learn's default, used here, is 30). We embed the codes of a few
# thousand test images once (`views.tsne_embedding`, scikit-learn's `TSNE` with a PCA start) and colour them by
# class, a label the autoencoder never saw:

# %%
tsne_images = X_test[:cfg.n_tsne]
tsne_model = aes[32]
tsne_codes = training.encode_all(tsne_model, tsne_images)
start = time.perf_counter()
embedding = views.tsne_embedding(tsne_codes, seed=cfg.seed)
tsne_recs = train.predict(tsne_model, tsne_images.to(device)).cpu()
print(f"t-SNE of {len(tsne_codes):,} codes of size {tsne_codes.shape[1]}: {time.perf_counter() - start:.1f} s")

# %% [markdown]
# **Latent-space view.** Pick a class and walk through its points with the slider (or keep "all classes"): the
# ring marks the point, the right side shows its image and its reconstruction.

# %% tags=["nbval-ignore-output"]
view = views.tsne_view(embedding, y_test[:cfg.n_tsne], ds.classes, tsne_images, tsne_recs)
picks = [int((y_test[:cfg.n_tsne] == c).nonzero()[0, 0]) for c in (1, 5, 8, 9)]
widgets.show(view, views.tsne_figure(embedding, y_test[:cfg.n_tsne], ds.classes, tsne_images, tsne_recs, picks))

# %% [markdown]
# Classes form their own regions although no label was used: trousers, bags and footwear separate well, while
# shirts, T-shirts, pullovers and coats mix, as they did for chapter 01's classifier. A number for "separate": for
# each class, the share of its points' 10 nearest neighbours in the picture that belong to the same class.

# %%
agreement = dict(zip(ds.classes, measures.neighbour_label_agreement(embedding, y_test[:cfg.n_tsne], k=10)))
print("  ".join(f"{c} {v:.2f}" for c, v in agreement.items()))
separate, mixed = ["Trouser", "Bag", "Sandal", "Sneaker", "Ankle boot"], ["T-shirt/top", "Pullover", "Coat", "Shirt"]
_ = results.claim("trousers, bags and footwear separate well, while shirts, T-shirts, pullovers and coats mix",
              min(agreement[c] for c in separate) > max(agreement[c] for c in mixed),
              detail=f"lowest of the first group {min(agreement[c] for c in separate):.2f}, highest of the second {max(agreement[c] for c in mixed):.2f}")

# %% [markdown]
# **The perplexity knob.** The same codes (the first 800) embedded with three perplexities. A small perplexity
# looks only at the nearest few neighbours and breaks the data into many small clumps; a large one keeps more of
# the global layout. Which classes separate does not depend on the setting: at every perplexity the trousers'
# neighbours are mostly trousers and the shirts' are not.

# %%
from matplotlib import colormaps

knob_n = min(800, len(tsne_codes))
knob_labels = y_test[:knob_n].numpy()
fig, axes = plotting.new_figure(1, 3, figsize=(10, 3.4))
knob_agreement = {}
for ax, perplexity in zip(axes, (5, 30, min(100, (knob_n - 1) // 3))):
    emb = views.tsne_embedding(tsne_codes[:knob_n], seed=cfg.seed, perplexity=perplexity)
    knob_agreement[perplexity] = dict(zip(ds.classes, measures.neighbour_label_agreement(emb, knob_labels, k=10)))
    for c, name in enumerate(ds.classes):
        ax.scatter(*emb[knob_labels == c].T, s=3, color=colormaps["tab10"](c), label=name)
    ax.set(title=f"perplexity {perplexity}", xticks=[], yticks=[])
axes[-1].legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
fig

# %%
print({p: f"Trouser {a['Trouser']:.2f}, Shirt {a['Shirt']:.2f}" for p, a in knob_agreement.items()})
_ = results.claim("at every perplexity the trousers' neighbours are mostly trousers and the shirts' are not",
              all(a["Trouser"] > 0.5 > a["Shirt"] for a in knob_agreement.values()), detail=f"{knob_agreement}")

# %% [markdown]
# **Decoding between codes.** If the code space were filled evenly, every point of it would decode to a plausible
# garment. It is not: the codes of a plain autoencoder occupy thin, irregular regions, and nothing in training says
# what the decoder should make of the space between them. Three experiments: walk in a straight line from the code
# of a trouser to the code of an ankle boot; blend the two *images* instead; and decode random codes drawn with the
# same mean and spread per dimension as the real codes.

# %%
a, b = picks[0], picks[3]
t = torch.linspace(0, 1, 8)[:, None]
path = (1 - t) * tsne_codes[a] + t * tsne_codes[b]              # (8, 32)
random_codes = tsne_codes.mean(0) + tsne_codes.std(0) * torch.randn(8, 32, generator=torch.Generator().manual_seed(4))
with torch.no_grad():
    tsne_model.eval()
    rows = {"decoded path\nbetween codes": tsne_model.decode(path.to(device)).cpu(),
            "pixel blend": (1 - t[:, :, None, None]) * tsne_images[a] + t[:, :, None, None] * tsne_images[b],
            "decoded\nrandom codes": tsne_model.decode(random_codes.to(device)).cpu()}
fig = views.labelled_rows(rows)
fig

# %% [markdown]
# How far are these codes from real data? For each, the distance to the nearest code of a real test image, in units
# of the typical (median) distance between a real code and its nearest real neighbour:

# %%
real = tsne_codes
nn_real = torch.cdist(real, real).fill_diagonal_(float("inf")).min(1).values.median()
for name, codes in [("path between the two codes", path), ("random codes", random_codes)]:
    ratio = torch.cdist(codes, real).min(1).values / nn_real
    print(f"{name:<27}", " ".join(f"{r:4.1f}" for r in ratio.tolist()))

# %% [markdown]
# The path's ends are real codes (ratio 0). Its middle points lie as far from any real code as real codes lie from
# each other, or farther (ratios of 1 and up, about 2 half-way), and the random codes farther still: the decoder is
# asked about places it never saw,
# and returns blurry mixtures or shapes that are no garment, where the pixel blend at least shows both images.
# Chapter 06's variational autoencoder changes the training so that the codes fill a known distribution, which
# makes sampling and interpolating meaningful.

# %%
path_ratio = torch.cdist(path, real).min(1).values / nn_real
random_ratio = torch.cdist(random_codes, real).min(1).values / nn_real
_ = results.claim("Its middle points lie as far from any real code as real codes lie from each other, or farther (ratios of 1 and up, about 2 half-way), and the random codes farther still",
              bool((path_ratio[1:-1] > 0.95).all() and path_ratio.max() > 1.5 and random_ratio.min() > path_ratio.max()),
              detail=f"path middle from {path_ratio[1:-1].min():.1f}, random codes from {random_ratio.min():.1f}")

# %% [markdown]
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | autoencoder | encoder → bottleneck code → decoder, trained to reconstruct its input; compression ratio 784/k |
# | under- vs overcomplete | a code wider than the input drifts towards the identity and passes noise through; low error then proves nothing |
# | PCA | the optimal *linear* autoencoder; a nonlinear one is far better at small codes; error vs size has an elbow |
# | output and loss | sigmoid + BCE or MSE for [0, 1], tanh for [−1, 1], none for unbounded; each loss wins on its own metric, and MAE's "sharper medians" did not show here |
# | convolutional AE | stride-2 convs down; transposed convs ($H_\text{out} = (H-1)s - 2p + d(k-1) + p_\text{out} + 1$) or upsample + conv up |
# | checkerboard | kernel not divisible by stride → uneven overlap → grid artifacts (a lattice in the power spectrum); upsample + conv avoids them |
# | deep AE | batch norm lets it train end to end; greedy layer-wise pretraining is history |
# | denoising / sparse | corrupt the input, or penalize the code, so the network must learn the data; L1 can be dodged by rescaling |
# | anomalies | reconstruction error as score, ROC-AUC per anomaly type; error also tracks image complexity |
# | latent space | classes cluster without labels (t-SNE, perplexity is its knob); the space between codes decodes poorly → chapter 06 |
#
# The numbers this run produced:

# %%
print(f"784-256-128-64-32 autoencoder: {train.count_parameters(mlp_ae):,} parameters, test MSE {test_mse(mlp_ae):.4f}")
print(f"PCA vs autoencoder at k = {ks[0]}: {size_table[ks[0]]['pca']:.4f} vs {size_table[ks[0]]['ae']:.4f}; elbow at k = {elbow}")
print(f"conv autoencoders (k = 32): transposed {conv_results['transposed']['mse']:.4f}, upsample {conv_results['upsample']['mse']:.4f}")
print(f"denoising at noise std 0.5: noisy {denoising[0.5]['noisy']:.4f} -> denoised {denoising[0.5]['dae']:.4f}")
print(f"anomaly detection ROC-AUC (trousers, sandals, bags held out): {auc:.3f}")

# Headline numbers for the course benchmarks (stored only when COURSE_RESULTS names a file).
from course_utils.results import record

record("ae_test_mse", test_mse(mlp_ae), unit="MSE", note="784-256-128-64-32")
record("pca_vs_ae_mse", {f"{m}_k{k}": size_table[k][m] for k in ks for m in ("pca", "ae")}, unit="MSE")
_ = record("ae_anomaly_roc_auc", auc)

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: stride vs pooling in a convolutional autoencoder.** Build `pooled_ae`: like
# `models.ConvAutoencoder(32)`, but each encoder convolution keeps the size (stride 1, padding 1) and a 2×2 max pool
# halves it afterwards. Give it `encode`, `decode` and `forward` (you may reuse the decoder of a `ConvAutoencoder`).
# Train it and a `ConvAutoencoder` on the same subset and compare error and time.

# %% jupyter={"source_hidden": true} tags=["solution"]
class PooledConvAutoencoder(nn.Module):
    def __init__(self, latent_dim=32, channels=(16, 32)):
        super().__init__()
        c1, c2 = channels
        self.encoder = nn.Sequential(
            nn.Conv2d(1, c1, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),   # (B, c1, 14, 14)
            nn.Conv2d(c1, c2, 3, padding=1), nn.ReLU(), nn.MaxPool2d(2),  # (B, c2, 7, 7)
            nn.Flatten(), nn.Linear(c2 * 49, latent_dim))
        self.decoder = models.ConvAutoencoder(latent_dim, channels).decoder

    def encode(self, x):
        return self.encoder(x)

    def decode(self, z):
        return self.decoder(z)

    def forward(self, x):
        return self.decode(self.encode(x))


pooled_ae = PooledConvAutoencoder()
n, ex1 = cfg.exercise_n_train, {}
for name, model in [("stride 2", models.ConvAutoencoder(32)), ("max pool", pooled_ae)]:
    start = time.perf_counter()
    fit_ae(model, X[:n], num_epochs=2)
    ex1[name] = {"mse": test_mse(model), "seconds": time.perf_counter() - start}
    print(f"{name:<9} test MSE {ex1[name]['mse']:.4f}   {ex1[name]['seconds']:.1f} s for 2 epochs on {n:,} images")
_ = results.claim("Pooling costs more time for the same parameters", ex1["max pool"]["seconds"] > ex1["stride 2"]["seconds"],
              detail=f"{ex1['max pool']['seconds']:.1f} s vs {ex1['stride 2']['seconds']:.1f} s")

# %%
passed = checks.check_pooled_autoencoder(pooled_ae)

# %% [markdown]
# Pooling computes every convolution at full resolution and then throws three of four values away, so it costs
# more time for the same parameters (the solution's claim line checks it). Which one reconstructs better after so
# short a run is one seed's answer; it takes several seeds to say more.

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer builds a model whose encoder has two stride-1, padding-1
# convolutions each followed by a 2×2 max pool (28 → 14 → 7), a linear code, and a decoder (reusing
# `ConvAutoencoder`'s is fine); `check_pooled_autoencoder` passes; both models are trained on the same subset with
# the same epochs, and the answer reports test MSE and time for each. Expected output: both errors around 0.035–0.04
# after 2 epochs on 6,000 images, and the pooled model about 2–3 times slower per epoch. The written observation
# should explain the time (convolutions at full resolution, three of four results discarded) and must *not* declare a
# winner on error from one seed. Full: check passes, both rows, time explained, error hedged. Most: check passes and
# numbers reported, explanation missing. Partial: model builds but the check fails on a hint it names (strided convs,
# pools in the wrong place). None: no working model.

# %% [markdown]
# **Exercise 2: depth at a fixed code size.** Write `hourglass(depth)` that returns the hidden widths of an
# encoder with `depth` hidden layers, starting at 256 and halving: `()`, `(256,)`, `(256, 128)`, ... Then train
# `models.MLPAutoencoder(16, hidden_dims=hourglass(d))` for `d = 0, 1, 2, 3` and compare parameters and test error.

# %% jupyter={"source_hidden": true} tags=["solution"]
def hourglass(depth):
    return tuple(256 // 2**i for i in range(depth))


ex2 = {}
for d in range(4):
    model = models.MLPAutoencoder(16, hidden_dims=hourglass(d))
    fit_ae(model, X[:cfg.exercise_n_train], num_epochs=3)
    ex2[d] = test_mse(model)
    print(f"depth {d}: hidden {hourglass(d)!s:<16} {train.count_parameters(model):>8,} parameters   test MSE {ex2[d]:.4f}")
pca_small = PCA(n_components=16, random_state=0).fit(X_flat[:cfg.exercise_n_train])
ex2_pca = float(((pca_small.inverse_transform(pca_small.transform(X_test_flat)) - X_test_flat) ** 2).mean())
print(f"for reference, PCA with k = 16 on the same {cfg.exercise_n_train:,} images: test MSE {ex2_pca:.4f}")
results.claim("depth 0 scores worse than PCA at the same k", ex2[0] > ex2_pca, detail=f"{ex2[0]:.4f} vs {ex2_pca:.4f}")
_ = results.claim("At this budget more layers are not automatically better", ex2[3] > min(ex2.values()), detail=f"{ex2}")

# %%
passed = checks.check_hourglass(hourglass)

# %% [markdown]
# At this budget more layers are not automatically better: deeper stacks have more to optimize and, without batch
# norm, train more slowly (section 6). Read the numbers as a statement about the *budget*, not about depth: 3 epochs
# on 6,000 images are about 140 optimizer steps. Even depth 0 (one linear layer each way, then a sigmoid), which can
# represent nearly PCA's map, scores worse than PCA at the same k: it is far from converged. Depth needs longer
# training or normalization to pay off.

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer defines `hourglass(depth)` returning `()`, `(256,)`,
# `(256, 128)`, `(256, 128, 64)` (the check passes), trains the four models on the same subset and budget, and
# reports parameters and test error per depth. Expected output: parameters about 26 k, 411 k, 473 k, 487 k; test
# MSE lowest at depth 1 (about 0.026), higher at depths 2 and 3, and depth 0 (about 0.05) worse than PCA's about
# 0.02. The written observation must tie the ranking to the budget (about 140 steps): the numbers support "at this
# budget depth 1 is best and more depth hurts"; they do *not* support "deeper autoencoders are worse" or "depth 0 is
# worse than PCA in general". Full: check passes, four rows, budget caveat stated. Most: rows reported, caveat
# missing. Partial: `hourglass` fails the check (an off-by-one or not halving) but the experiment runs. None: nothing runs.

# %% [markdown]
# **Exercise 3: retrieval in code space.** Does the code keep what makes two images alike? Write
# `retrieve(queries, database, k)`: for each row of `queries` (N_q, D), the indices of the `k` nearest rows of
# `database` (N, D) by Euclidean distance, nearest first, as a long tensor (N_q, k). Then use it to retrieve, for
# 1,000 test images, their 5 nearest training images, and score the share of retrieved images with the query's
# class (the label is used only to score, never to search). Compare four spaces: raw pixels (784 numbers), PCA with
# 32 components, the 32-number code of `aes[32]`, and the 2-number code of `aes[2]`. Which space retrieves best per
# number stored? Finally plot the 2-D codes of `aes[2]` coloured by class, with a legend and axis labels.

# %% jupyter={"source_hidden": true} tags=["solution"]
def retrieve(queries, database, k):
    return torch.cdist(queries, database).topk(k, largest=False).indices


queries, query_labels = X_test[:1000], y_test[:1000]
pca_32 = PCA(n_components=32, random_state=0).fit(X_flat)
spaces = {"pixels (784)": (X.flatten(1), queries.flatten(1)),
          "PCA (32)": (torch.from_numpy(pca_32.transform(X_flat)), torch.from_numpy(pca_32.transform(queries.flatten(1).numpy()))),
          "autoencoder code (32)": (training.encode_all(aes[32], X), training.encode_all(aes[32], queries)),
          "autoencoder code (2)": (training.encode_all(aes[2], X), training.encode_all(aes[2], queries))}
ex3 = {}
for name, (db, q) in spaces.items():
    found = retrieve(q.float(), db.float(), k=5)
    ex3[name] = (ds.y_train[found] == query_labels[:, None]).float().mean().item()
    print(f"{name:<22} share of the 5 retrieved images with the query's class: {ex3[name]:.1%}")
ae32, ae2 = ex3["autoencoder code (32)"], ex3["autoencoder code (2)"]
results.claim("the 32-number code retrieves about as well as the raw pixels (within two percentage points)", abs(ae32 - ex3["pixels (784)"]) < 0.02,
              detail=f"{ae32:.1%} vs {ex3['pixels (784)']:.1%}")
results.claim("and about as well as PCA with the same 32 numbers", abs(ae32 - ex3["PCA (32)"]) < 0.02, detail=f"{ae32:.1%} vs {ex3['PCA (32)']:.1%}")
_ = results.claim("The 2-number code retrieves far worse", ae2 < ae32 - 0.1, detail=f"{ae2:.1%}")

# %% jupyter={"source_hidden": true} tags=["solution"]
codes_2d = training.encode_all(aes[2], X_test[:2000])
fig, ax = plotting.new_figure(figsize=(6.2, 4))
for c, name in enumerate(ds.classes):
    ax.scatter(*codes_2d[y_test[:2000] == c].T, s=4, color=colormaps["tab10"](c), label=name)
ax.set(xlabel="code unit 1", ylabel="code unit 2", title="aes[2]: the 2-D codes of 2,000 test images")
ax.legend(fontsize=7, markerscale=3, loc="center left", bbox_to_anchor=(1.0, 0.5), frameon=False)
fig

# %%
passed = checks.check_retrieve(retrieve)

# %% [markdown]
# In this run the 32-number code retrieves about as well as the raw pixels (within two percentage points), from
# 24.5 times fewer numbers, and about as well as PCA with the same 32 numbers: for retrieval by class, the nonlinear
# code buys nothing over PCA here. The 2-number code keeps only the coarse kind of garment and retrieves far worse.
# The scatter shows why: with two numbers, whole groups of classes share one region.

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer writes `retrieve` with distances from each query to every
# database row (`torch.cdist(queries, database)`) and the `k` smallest (`topk(k, largest=False).indices`); the check
# passes; the four spaces are scored on the same 1,000 queries and the same training images; the 2-D scatter has a
# legend (or colour bar with class names) and axis labels. Expected output: about 79–80 % for pixels, PCA (32) and the
# 32-number code (within two points of each other), about 56 % for the 2-number code; chance is 10 %. The numbers
# support "the 32-number code is as good as the pixels for class retrieval at 1/24.5 of the storage" and "no
# better than PCA"; they do not show the code is *better* than PCA. The written observation
# should compare the spaces per number stored and say that one autoencoder at one budget was measured; the numbers
# do not support claims about autoencoders in general. Full: check passes, four scores, labelled plot, observation
# tied to the numbers. Most: scores right, plot unlabelled or observation missing. Partial: the check names a mistake
# (distances instead of indices, farthest instead of nearest, dot product instead of distance) and the rest is
# missing. None: no working `retrieve`.
#
# ## Further reading
#
# - G. E. Hinton, R. R. Salakhutdinov. *Reducing the dimensionality of data with neural networks.* Science 313, 2006 (deep autoencoders, pretrained layer by layer as stacked RBMs).
# - P. Baldi, K. Hornik. *Neural networks and principal component analysis: learning from examples without local minima.* Neural Networks 2, 1989 (the linear autoencoder is PCA).
# - Y. Bengio, P. Lamblin, D. Popovici, H. Larochelle. *Greedy layer-wise training of deep networks.* NeurIPS 2006 (layer-wise pretraining with autoencoders, as in section 6).
# - P. Vincent, H. Larochelle, Y. Bengio, P.-A. Manzagol. *Extracting and composing robust features with denoising autoencoders.* ICML 2008.
# - A. Ng. *Sparse autoencoder.* CS294A lecture notes, Stanford, 2011.
# - V. Dumoulin, F. Visin. *A guide to convolution arithmetic for deep learning.* arXiv:1603.07285, 2016 (transposed convolutions).
# - A. Odena, V. Dumoulin, C. Olah. *Deconvolution and checkerboard artifacts.* Distill, 2016.
# - L. van der Maaten, G. Hinton. *Visualizing data using t-SNE.* JMLR 9, 2008.
# - C. Zhou, R. C. Paffenroth. *Anomaly detection with robust deep autoencoders.* KDD 2017.
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
