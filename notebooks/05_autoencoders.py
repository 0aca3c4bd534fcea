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
# | full (default) | 20,000 training images, about twenty small autoencoders of a few epochs each, t-SNE of 3,000 codes | about 5 minutes (measured: see the README's chapter table) |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, small t-SNE: checks that everything runs | under 45 seconds |
#
# Prerequisites: chapter 01 (convolutions, output sizes, the course's trainer), PyTorch `nn.Module`, mean squared
# error and cross-entropy.

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

runtime.check_version(COURSE_UTILS_VERSION)

# %% [markdown]
# Everything that decides how long the chapter takes sits in one configuration cell. The left column is the
# full run you read about; the right column is the *smoke* run that CI uses (set `COURSE_SMOKE=1`).

# %%
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F
from IPython.display import display

from course_utils import batches, data, plotting, runtime, train, widgets
from course_utils.autoencoders import checks, models, training, views
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
# (section 4 says why and compares the alternatives). Adam with a one-cycle learning rate trains it:

# %%
show_source(training.autoencoder_step)
history = fit_ae(mlp_ae, X, verbose=True, live_plot=True)
print(f"test MSE per pixel: {test_mse(mlp_ae):.4f}")

# %%
show_images = X_test[:10]
with torch.no_grad():
    decoded = mlp_ae.eval()(show_images.to(device)).cpu()
fig = views.labelled_rows({"test image": show_images, "decoded from\n32 numbers": decoded})
fig

# %% [markdown]
# The reconstructions keep each garment's shape and brightness but lose fine texture: prints, stripes and logos.
# A 32-number code has room for the big picture only.
#
# ## 2. Undercomplete and overcomplete codes
#
# A code shorter than the input is **undercomplete**; one at least as long is **overcomplete**. An overcomplete
# code does not force the network to learn anything about clothing: with 1,024 code units for 784 pixels it
# can get close to the identity, copying each pixel through. We train two one-layer autoencoders,
# 784 → 32 → 784 and 784 → 1024 → 784, and then feed them something that is not clothing at all, uniform noise.
# A model that learned *clothes* cannot reproduce noise; a model that learned to *copy* can.

# %%
under, over = models.MLPAutoencoder(32, hidden_dims=()), models.MLPAutoencoder(1024, hidden_dims=())
for model in (under, over):
    fit_ae(model, X)
noise = torch.rand(200, 1, 28, 28, generator=torch.Generator().manual_seed(1))
print(f"{'code':>6} {'parameters':>10} {'test images MSE':>16} {'noise images MSE':>17}")
for model in (under, over):
    print(f"{model.latent_dim:>6} {train.count_parameters(model):>10,} {test_mse(model):>16.4f} {test_mse(model, noise):>17.4f}")

# %%
with torch.no_grad():
    rows = {"noise input": noise[:8], "decoded,\n32-unit code": under.eval()(noise[:8].to(device)).cpu(),
            "decoded,\n1,024-unit code": over.eval()(noise[:8].to(device)).cpu()}
fig = views.labelled_rows(rows)
fig

# %% [markdown]
# The wide model reconstructs the test images far better, and it passes more of the noise through: the narrow
# model turns every noise image into the same blurry garment, the wide one keeps some of the input's texture.
# After this short training it is not yet the identity, but nothing in its objective keeps it from becoming one,
# and its "code" is longer than the image, so it compresses nothing. Low reconstruction error alone therefore
# proves nothing: an overcomplete autoencoder needs another constraint (noise on the input, section 7, or a
# sparsity penalty on the code, section 8) before its code means anything.
#
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
# code space lets a few numbers describe more than a flat projection can. Each doubling of $k$ helps less than the
# one before: the curve bends into an **elbow**, after which extra code units buy little. Where is it? We call
# the elbow the first size at which doubling the code removes less than a fifth of the autoencoder's error:

# %%
gains = {a: 1 - size_table[b]["ae"] / size_table[a]["ae"] for a, b in zip(ks[:-1], ks[1:])}
for (a, g), b in zip(gains.items(), ks[1:]):
    print(f"k {a:>2} -> {b:>2}: error down {g:.0%}")
elbow = next((a for a, g in gains.items() if g < 0.2), ks[-1])
print(f"elbow of this run: k = {elbow}")

# %% [markdown]
# At the largest size PCA catches up: its solution is exact, while the autoencoder has had only a few epochs of
# training, and its 256-unit hidden layers limit what a wide code can carry. The table is what *this* budget gives.
#
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
# the sigmoid saturates (MSE's gradient is multiplied by the sigmoid's slope there). MAE $|x - \hat x|$ is minimized
# by the *median* of what the code cannot decide, MSE by the *mean*: MAE keeps edges sharper and gives up on faint
# detail. We train the same architecture (k = 32) with five pairings and measure every result in the same units,
# pixels in [0, 1]. As a blur measure we also report the mean gradient magnitude of the reconstructions relative
# to that of the originals (1 = as sharp as the data):

# %%
def sharpness(images):
    """Mean absolute difference between neighbouring pixels (horizontal and vertical)."""
    return ((images[..., 1:, :] - images[..., :-1, :]).abs().mean() + (images[..., 1:] - images[..., :-1]).abs().mean()).item()


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
                             "sharp": sharpness(x_hat) / sharpness(X_test), "images": x_hat[:8].clamp(0, 1)}
print(f"{'pairing':<28} {'test MSE':>9} {'test MAE':>9} {'sharpness':>10}")
for name, r in pairing_results.items():
    print(f"{name:<28} {r['mse']:>9.4f} {r['mae']:>9.4f} {r['sharp']:>10.2f}")
for metric, label in [("mse", "lowest test MSE"), ("mae", "lowest test MAE"), ("sharp", "sharpest")]:
    pick = (max if metric == "sharp" else min)(pairing_results, key=lambda n: pairing_results[n][metric])
    print(f"{label}: {pick}")

# %%
fig = views.labelled_rows({"original": X_test[:8]} | {name.replace(", ", "\n", 1): r["images"] for name, r in pairing_results.items()})
fig

# %% [markdown]
# Read the table rather than the pictures, which look alike at this size. Every pairing that matches the data
# range learns a usable model, and the differences are small next to the effect of the code size in section 3.
# Compare the three sigmoid models: each loss does best on what it measures, the MAE-trained one on MAE, the
# MSE-trained one on MSE. The tanh model sees data centred on zero, which often eases optimization; the lines under
# the table name this run's winners. The output without an activation looks sharpest partly because it can leave
# [0, 1] (the images above clip it). Every sharpness ratio is below 1: an autoencoder with a small code blurs what
# it cannot encode.
#
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
# `models.ConvAutoencoder`. Here are what untrained decoders of each kind make of random codes, and then the same two
# autoencoders trained:

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

# %%
z = torch.randn(8, 32, generator=torch.Generator().manual_seed(2))
with torch.no_grad():
    untrained = {f"untrained\n{name} decoder": model.decode(3 * z) for name, model in conv_aes.items()}
fig = views.labelled_rows(untrained, title="what untrained decoders make of random codes")
fig

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
# The grid pattern of the untrained transposed-conv decoder is plain to see, and the upsampling decoder has none.
# After training, both reconstruct about as well as the fully connected model of section 3 with about a quarter
# of its parameters: convolutions reuse their weights at every position, so the model spends its parameters on
# local shapes. The upsampling decoder costs more time, because its convolutions run at the higher resolution.
#
# ## 6. Deep autoencoders, and greedy layer-wise pretraining
#
# Before batch normalization and good initializations, deep autoencoders were hard to train end to end. Hinton
# and Salakhutdinov (2006) trained them **greedily, one layer at a time**: first a shallow autoencoder
# 784 → 256 → 784 on the images; then a second one 256 → 128 → 256 on the first one's codes; and so on. The
# trained layers are then stacked into the deep model and fine-tuned end to end. Our `MLPAutoencoder` keeps each
# layer in its own block, so encoder block `k` and its mirror `decoder[-1 - k]` form the k-th shallow autoencoder:

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
# layer and a little **dropout** (0.1). We compare three ways to train it with the same number of end-to-end epochs:
# from random weights; greedy pretraining followed by fine-tuning; and, for reference, section 1's model without
# batch norm or dropout.

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
# Read the rows in pairs. Greedy pretraining alone already gives a working deep autoencoder, because each layer
# learned to keep what the next one needs, but its errors add up through the stack; fine-tuning end to end repairs
# that, and the pretrained model ends up ahead of the same model (batch norm + dropout) trained end to end from
# random weights, at the price of the pretraining time. A simpler change does better still: drop the dropout.
# Dropout makes the decoder cope with missing units, a regularizer that a reconstruction task of this size does not
# need. With batch norm, Adam and modern initializations, deep autoencoders train end to end, which is why
# layer-wise pretraining is history today.
#
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
# The denoising autoencoder's error stays low across the levels it was trained on and degrades gently beyond. The
# plain autoencoder was never asked to undo corruption: its output beats the noisy input only at strong noise, where
# its narrow code drops much of the noise, and its error grows much faster with the noise level.
#
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
# Each decoder column is the pattern a code unit adds to the image. The 16 most used units of each model:

# %%
fig, axes = plotting.new_figure(2, 16, figsize=(11, 1.9))
for row, lam in zip(axes, (0.0, max(sparse))):
    codes = training.encode_all(sparse[lam], X_test[:2000])
    top = (codes > 0).float().mean(0).argsort(descending=True)[:16]
    patterns = sparse[lam].decoder[0].weight.detach().cpu()[:, top].T.view(-1, 28, 28)
    for ax, p in zip(row, patterns):
        ax.imshow(p, cmap="RdBu_r", vmin=-p.abs().max(), vmax=p.abs().max())
        ax.set_axis_off()
    row[0].set_title(f"lambda = {lam}", fontsize=8, loc="left")
fig

# %% [markdown]
# Without the penalty the patterns look like noise: each unit adds a little to every image, and only their sum
# makes sense. With it, the most used units become recognizable garment shapes and parts, each switched on by
# fewer images.

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
#
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
# With two numbers the decoder can only say roughly *which kind* of garment and how bright; by eight the outline
# is right; the larger codes add the shading and some of the texture.
#
# ## 11. The latent space
#
# What does the 32-dimensional code space of section 1 look like? **t-SNE** (van der Maaten and Hinton, 2008)
# places points in 2-D so that neighbours in the code space stay neighbours; distances between far-apart groups
# mean little. We embed the codes of a few thousand test images once (`views.tsne_embedding`, scikit-learn's
# `TSNE`) and colour them by class, a label the autoencoder never saw:

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
# shirts, T-shirts, pullovers and coats mix, as they did for chapter 01's classifier.
#
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
# The path's ends are real codes (ratio 0). Its middle points, and the random codes even more, lie farther from any
# real code than real codes lie from each other (ratios above 1): the decoder is asked about places it never saw,
# and returns blurry mixtures or shapes that are no garment, where the pixel blend at least shows both images. Chapter 06's variational autoencoder changes the training so that
# the codes fill a known distribution, which makes sampling and interpolating meaningful.
#
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | autoencoder | encoder → bottleneck code → decoder, trained to reconstruct its input; compression ratio 784/k |
# | under- vs overcomplete | a code as wide as the input can copy; low error then proves nothing |
# | PCA | the optimal *linear* autoencoder; a nonlinear one is far better at small codes; error vs size has an elbow |
# | output and loss | sigmoid + BCE or MSE for [0, 1], tanh for [−1, 1], none for unbounded; MAE favours sharp medians |
# | convolutional AE | stride-2 convs down; transposed convs ($H_\text{out} = (H-1)s - 2p + d(k-1) + p_\text{out} + 1$) or upsample + conv up |
# | checkerboard | kernel not divisible by stride → uneven overlap → grid artifacts; upsample + conv avoids them |
# | deep AE | batch norm lets it train end to end; greedy layer-wise pretraining is history |
# | denoising / sparse | corrupt the input, or penalize the code, so the network must learn the data |
# | anomalies | reconstruction error as score, ROC-AUC per anomaly type; error also tracks image complexity |
# | latent space | classes cluster without labels; the space between codes decodes poorly → chapter 06 |
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
record("ae_anomaly_roc_auc", auc)

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
n = cfg.exercise_n_train
for name, model in [("stride 2", models.ConvAutoencoder(32)), ("max pool", pooled_ae)]:
    start = time.perf_counter()
    fit_ae(model, X[:n], num_epochs=2)
    print(f"{name:<9} test MSE {test_mse(model):.4f}   {time.perf_counter() - start:.1f} s for 2 epochs on {n:,} images")

# %%
checks.check_pooled_autoencoder(pooled_ae)

# %% [markdown]
# Pooling computes every convolution at full resolution and then throws three of four values away, so it costs
# more time for the same parameters. Whether it reconstructs better after so short a run varies with the seed.
#
# **Exercise 2: depth at a fixed code size.** Write `hourglass(depth)` that returns the hidden widths of an
# encoder with `depth` hidden layers, starting at 256 and halving: `()`, `(256,)`, `(256, 128)`, ... Then train
# `models.MLPAutoencoder(16, hidden_dims=hourglass(d))` for `d = 0, 1, 2, 3` and compare parameters and test error.

# %% jupyter={"source_hidden": true} tags=["solution"]
def hourglass(depth):
    return tuple(256 // 2**i for i in range(depth))


for d in range(4):
    model = models.MLPAutoencoder(16, hidden_dims=hourglass(d))
    fit_ae(model, X[:cfg.exercise_n_train], num_epochs=3)
    print(f"depth {d}: hidden {hourglass(d)!s:<16} {train.count_parameters(model):>8,} parameters   test MSE {test_mse(model):.4f}")

# %%
checks.check_hourglass(hourglass)

# %% [markdown]
# At a fixed, short budget more layers are not automatically better: deeper stacks have more to optimize and,
# without batch norm, train more slowly (section 6). Depth needs longer training or normalization to pay off.

# %% [markdown]
# **Exercise 3: latent arithmetic with a 2-D code.** Write `latent_arithmetic(model, a, b, c)` that returns
# `decode(encode(a) - encode(b) + encode(c))` for image batches `a`, `b`, `c`: "a is to b as ? is to c". Try it
# with the 2-D autoencoder of section 3 (`aes[2]`), whose codes you can also plot directly.

# %% jupyter={"source_hidden": true} tags=["solution"]
def latent_arithmetic(model, a, b, c):
    with torch.no_grad():
        return model.decode(model.encode(a) - model.encode(b) + model.encode(c))


model_2d = aes[2].eval()
codes_2d = training.encode_all(model_2d, X_test[:2000])
fig, ax = plotting.new_figure(figsize=(4.5, 3.5))
ax.scatter(codes_2d[:, 0], codes_2d[:, 1], c=y_test[:2000], cmap="tab10", s=3)
ax.set_title("the 2-D codes, coloured by class", fontsize=9)
display(fig)
i, j, k_ = picks[0], picks[1], picks[2]  # a trouser, a sandal, a bag
result = latent_arithmetic(model_2d, X_test[i:i + 1].to(device), X_test[j:j + 1].to(device), X_test[k_:k_ + 1].to(device))
display(plotting.image_row(torch.cat([X_test[[i, j, k_]], result.cpu()]), titles=["a", "b", "c", "a - b + c"], size=1.0))

# %%
checks.check_latent_arithmetic(latent_arithmetic)

# %% [markdown]
# With a 2-D code the arithmetic is a move in the plane you can see above: from c's position by the vector from b
# to a. The result is only as good as the region it lands in, which is the point of section 11.
#
# ## Further reading
#
# - G. E. Hinton, R. R. Salakhutdinov. *Reducing the dimensionality of data with neural networks.* Science 313, 2006 (deep autoencoders, layer-wise pretraining).
# - P. Baldi, K. Hornik. *Neural networks and principal component analysis: learning from examples without local minima.* Neural Networks 2, 1989 (the linear autoencoder is PCA).
# - Y. Bengio, P. Lamblin, D. Popovici, H. Larochelle. *Greedy layer-wise training of deep networks.* NeurIPS 2006.
# - P. Vincent, H. Larochelle, Y. Bengio, P.-A. Manzagol. *Extracting and composing robust features with denoising autoencoders.* ICML 2008.
# - A. Ng. *Sparse autoencoder.* CS294A lecture notes, Stanford, 2011.
# - V. Dumoulin, F. Visin. *A guide to convolution arithmetic for deep learning.* arXiv:1603.07285, 2016 (transposed convolutions).
# - A. Odena, V. Dumoulin, C. Olah. *Deconvolution and checkerboard artifacts.* Distill, 2016.
# - L. van der Maaten, G. Hinton. *Visualizing data using t-SNE.* JMLR 9, 2008.
# - C. Zhou, R. C. Paffenroth. *Anomaly detection with robust deep autoencoders.* KDD 2017.
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
