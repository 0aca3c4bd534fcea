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
# # 06 · Variational autoencoders
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dla-interactive/deep-learning-architectures/blob/main/notebooks/06_vae.ipynb)
#
# **After this chapter you can**
# - turn an autoencoder into a generative model: an encoder that outputs a distribution (μ, log σ²), a prior, a decoder;
# - write the ELBO, derive the closed-form Gaussian KL, and check it against a Monte-Carlo estimate;
# - explain the reparameterization trick and show that gradients reach μ and σ through a random sample;
# - train MLP and convolutional VAEs on Fashion-MNIST, report the test negative ELBO in nats, and compare
#   architectures fairly at equal training time;
# - sample from the prior, draw the 2-D latent manifold, and interpolate between images (AE and VAE side by side);
# - trade reconstruction against KL with β, detect posterior collapse per dimension and fix it with KL annealing
#   or free bits;
# - build a conditional VAE that generates a chosen class, and a small VQ-VAE with a discrete codebook;
# - compare a VAE with a GAN on the same data with the Fréchet distance and class coverage of chapter 04.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | loads the two 90-second VAEs of the MLP-vs-conv race from course checkpoints; about ten small VAEs trained live on 20,000 images | about 5 minutes (measured: see the README's chapter table) |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, a 3-second race: checks that everything runs | under 45 seconds |
#
# Prerequisites: chapter 05 (autoencoders, the t-SNE view), chapter 01 (convolutions, the course's trainer);
# for the last section, chapter 04's evaluation (Fréchet distance). Some probability: a Gaussian density,
# expectations, the logarithm of a product.

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

from course_utils import (
    autoencoders,
    batches,
    checkpoints,
    data,
    gan,
    plotting,
    results,
    runtime,
    train,
    widgets,
)
from course_utils.vae import checks, elbo, models, training, views
from course_utils.widgets import show_source

chapter_start = time.perf_counter()
cfg = runtime.Config(
    n_train=(None, 2000),        # None: all 60,000 images (the race); the live trainings use n_small of them
    n_small=(20000, 2000),
    n_test=(None, 1000),         # None: all 10,000 test images
    batch_size=(128, 128),
    lr=(2e-3, 2e-3),             # peak learning rate of Adam's one-cycle schedule
    epochs=(8, 1),               # every small VAE trained live
    latent_dim=(20, 20),
    race_seconds=(90, 1.5),      # training wall time of each contestant in the MLP-vs-conv race
    betas=((0.5, 1.0, 4.0), (0.5, 1.0, 4.0)),
    collapse_latent=(32, 32),    # latent size of the posterior-collapse runs
    anneal_fraction=(0.5, 0.5),  # KL weight ramps from 0 to 1 over this fraction of training
    free_bits=(0.5, 0.5),        # nats per dimension that are not penalized
    vq_epochs=(4, 1),
    n_tsne=(2000, 300),
    n_eval=(2000, 400),          # images per set for the Fréchet distances
    seed=(0, 0),
)
cfg

# %%
runtime.seed_everything(cfg.seed)
device = runtime.get_device()
ds = data.load_fashion_mnist(n_train=cfg.n_train, n_test=cfg.n_test)
X_test, y_test = ds.X_test, ds.y_test
X, y = ds.X_train[:cfg.n_small], ds.y_train[:cfg.n_small]
print(ds)
print(f"live trainings use {len(X):,} training images | device: {device} | threads: {torch.get_num_threads()}")


def fit_chapter_vae(model, X, **kwargs):
    """Train a VAE with this chapter's settings (kwargs override them); returns the History."""
    settings = dict(num_epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, device=device, seed=cfg.seed)
    return training.fit_vae(model, X, **(settings | kwargs))


# %% [markdown]
# ## 1. From points to distributions
#
# Chapter 05 ended with a problem: an autoencoder's codes fill thin, irregular regions, so a point between them,
# or a random point, decodes to something that is not a garment. A **variational autoencoder** (VAE; Kingma and
# Welling, 2014) fixes this by changing what the encoder says. Instead of one point $z$, it outputs a
# *distribution* over codes, a Gaussian $q(z\mid x) = \mathcal N(\mu(x), \operatorname{diag}\sigma^2(x))$, and
# training keeps all these Gaussians close to one fixed **prior** $p(z) = \mathcal N(0, I)$. Then the prior is
# covered: any $z$ drawn from it lies where some images' codes lie, and decodes to something plausible.
#
# The picture behind it is a **generative model**: to make an image, draw $z \sim p(z)$, then draw $x$ from the
# decoder's distribution $p(x\mid z)$ (here: each pixel a Bernoulli "probability of ink" given by a sigmoid).
# *Generation* runs prior → decoder. *Inference* runs the other way: given an image, which codes could have made
# it? The exact posterior $p(z\mid x)$ is intractable; the encoder $q(z\mid x)$ is a learned approximation of it.
#
# The encoder outputs two vectors per image: the mean $\mu$ and the **log-variance** $\log\sigma^2$. Why the log?
# A variance must be positive, but a linear layer outputs any real number; $\sigma^2 = \exp(\log\sigma^2)$ is
# positive for every output, the network never needs a constraint, and variances from 10⁻⁴ to 10 are all at
# moderate values of the output. The model below is the classic 784-400-20 MLP VAE of the original paper:

# %%
show_source(models.VAE)
show_source(models.MLPVAE)

# %%
# NBVAL_CHECK_OUTPUT
mlp_vae = models.MLPVAE(latent_dim=cfg.latent_dim, hidden_dim=400)
x = torch.zeros(5, 1, 28, 28)
mu, logvar = mlp_vae.encode(x)
logits, _, _ = mlp_vae(x)
print("encode:", tuple(x.shape), "-> mu", tuple(mu.shape), "and logvar", tuple(logvar.shape))
print("decode_logits:", tuple(mlp_vae.decode_logits(mu).shape), "| forward returns logits", tuple(logits.shape))
print(f"parameters: {train.count_parameters(mlp_vae):,}")

# %% [markdown]
# ## 2. The ELBO and the Gaussian KL
#
# We would like to maximize the log-likelihood $\log p(x) = \log \int p(x\mid z)\,p(z)\,dz$ of the data, but the
# integral over all codes is out of reach. For any $q(z\mid x)$ it has a lower bound, the **evidence lower bound**:
#
# $$\log p(x) \;\ge\; \underbrace{\mathbb E_{q(z\mid x)}\big[\log p(x\mid z)\big]}_{\text{reconstruction}}
#   \;-\; \underbrace{\mathrm{KL}\big(q(z\mid x)\,\|\,p(z)\big)}_{\text{stay near the prior}} \;=\; \text{ELBO}.$$
#
# The gap is exactly $\mathrm{KL}(q(z\mid x)\,\|\,p(z\mid x))$, so pushing the ELBO up both fits the data and makes
# $q$ a better posterior. We minimize the **negative ELBO**, in nats per image: the first term is the binary
# cross-entropy summed over the 784 pixels (the decoder's Bernoulli log-likelihood, applied to grey levels in
# [0, 1] as is customary), the second the KL summed over latent dimensions.
#
# For two Gaussians the KL has a closed form. Per dimension, with $q = \mathcal N(\mu, \sigma^2)$ and
# $p = \mathcal N(0, 1)$:
#
# $$\mathrm{KL}(q\,\|\,p) = \mathbb E_q\!\left[\log\tfrac{q(z)}{p(z)}\right]
#   = \mathbb E_q\!\left[-\tfrac12\log\sigma^2 - \tfrac{(z-\mu)^2}{2\sigma^2} + \tfrac{z^2}{2}\right]
#   = \tfrac12\left(\mu^2 + \sigma^2 - 1 - \log\sigma^2\right),$$
#
# using $\mathbb E_q[(z-\mu)^2] = \sigma^2$ and $\mathbb E_q[z^2] = \mu^2 + \sigma^2$. It is zero exactly when
# $\mu = 0$ and $\sigma = 1$. In code:

# %%
show_source(elbo.gaussian_kl)

# %% [markdown]
# Two checks. Known values: KL of $\mathcal N(0,1)$ to itself is 0; shifting the mean by 1 costs $\tfrac12$ nat;
# $\sigma^2 = e$ costs $\tfrac12(e - 2)$. And a Monte-Carlo estimate: draw many $z \sim q$ and average
# $\log q(z) - \log p(z)$ with `torch.distributions`, which knows nothing of our formula.

# %%
# NBVAL_CHECK_OUTPUT
known = [((0.0, 0.0), 0.0), ((1.0, 0.0), 0.5), ((0.0, 1.0), 0.5 * (np.e - 2)), ((-2.0, np.log(0.25)), 0.5 * (4 + 0.25 - 1 - np.log(0.25)))]
for (m, lv), want in known:
    got = elbo.gaussian_kl(torch.tensor([m]), torch.tensor([lv])).item()
    assert abs(got - want) < 1e-6
    print(f"mu {m:+.1f}, logvar {lv:+.2f}: KL = {got:.4f} (expected {want:.4f})")
g = torch.Generator().manual_seed(0)
mu_q, logvar_q = torch.randn(6, generator=g), torch.randn(6, generator=g)
q = torch.distributions.Normal(mu_q, torch.exp(0.5 * logvar_q))
z = q.sample((200_000,))
monte_carlo = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).mean(0)
closed = elbo.gaussian_kl(mu_q, logvar_q)
assert torch.allclose(monte_carlo, closed, atol=0.02)
print("closed form:", [f"{v:.3f}" for v in closed.tolist()])
print("Monte-Carlo:", [f"{v:.2f}" for v in monte_carlo.tolist()], "(200,000 samples each; agree to 0.02)")

# %% [markdown]
# ## 3. The reparameterization trick
#
# The reconstruction term is an expectation over $z \sim q(z\mid x)$, estimated with a sample. But "draw a sample"
# is not a differentiable operation: a number drawn by `torch.distributions.Normal(mu, sigma).sample()` carries
# no gradient back to `mu` or `sigma`, so the encoder would never learn. The **reparameterization trick** moves the randomness into an
# input: draw $\varepsilon \sim \mathcal N(0, I)$, then
#
# $$z = \mu + \sigma \odot \varepsilon, \qquad \sigma = \exp(\tfrac12 \log\sigma^2).$$
#
# $z$ has exactly the distribution $\mathcal N(\mu, \sigma^2)$, and it is a smooth function of $\mu$ and
# $\log\sigma^2$, so backpropagation passes through it.

# %%
show_source(elbo.reparameterize)

# %% [markdown]
# A demo with a target of mean 2 and standard deviation 0.5: the samples match, and the gradient of
# $\mathbb E[z^2] = \mu^2 + \sigma^2$ reaches both parameters with the values calculus predicts,
# $\partial/\partial\mu = 2\mu = 4$ and $\partial/\partial\log\sigma^2 = \sigma^2 = 0.25$. A plain `.sample()` of
# `torch.distributions`, by contrast, is cut off from the graph; its `.rsample()` is this very trick.

# %%
# NBVAL_CHECK_OUTPUT
mu_t = torch.full((200_000,), 2.0, requires_grad=True)
logvar_t = torch.full((200_000,), float(np.log(0.25)), requires_grad=True)
z = elbo.reparameterize(mu_t, logvar_t, generator=torch.Generator().manual_seed(1))
print(f"sample mean {z.mean():.2f} (target 2.00), sample std {z.std():.2f} (target 0.50)")
z.pow(2).mean().backward()
grad_mu, grad_logvar = mu_t.grad.sum().item(), logvar_t.grad.sum().item()
print(f"d E[z²]/d mu = {grad_mu:.2f} (2 mu = 4.00); d E[z²]/d logvar = {grad_logvar:.2f} (sigma² = 0.25)")
assert abs(grad_mu - 4) < 0.05 and abs(grad_logvar - 0.25) < 0.01
normal = torch.distributions.Normal(mu_t[:3], torch.exp(0.5 * logvar_t[:3]))
print("Normal(...).sample() requires grad:", normal.sample().requires_grad, "| .rsample():", normal.rsample().requires_grad)

# %% [markdown]
# ## 4. Training: the ELBO as a step function
#
# The course's trainer takes a *step function*; the VAE's computes the two terms per image and returns them
# separately, so the curves show what each does. `beta`, `anneal_steps` and `free_bits` are for sections 9 and 10;
# with the defaults the objective is the plain negative ELBO.

# %%
show_source(elbo.vae_step)

# %% [markdown]
# A convolutional VAE has the same contract: two stride-2 4×4 convolutions bring 28×28 down to 7×7, two
# transposed convolutions bring it back. Which architecture is better *for the same training time* on a CPU?
# Convolutions reuse weights across positions, which suits images, but each image costs more arithmetic than in
# the MLP: in a fixed time the MLP sees the data many more times. We race them at equal wall time: each gets
# `race_seconds` of training on all 60,000 images. `training.fit_for_seconds` runs the one-cycle learning-rate
# schedule on the *fraction of the time* spent and stops when the time is up, so both get a complete schedule
# and exactly the same budget, whatever their speed.
#
# The conv contestant is a lean design, built to make the most of a CPU: 16 and 32 channels (a wider conv VAE
# would get even fewer passes over the data in the same time), channels-last memory (faster CPU convolutions) and
# a higher peak learning rate.

# %%
show_source(models.ConvVAE)
show_source(training.fit_for_seconds)
race = training.race_models()
for kind, model in race.items():
    shapes = [tuple(t.shape) for t in model.encode(torch.zeros(2, 1, 28, 28))]
    print(f"{kind:>4}: {train.count_parameters(model):>7,} parameters, encode -> {shapes}, "
          f"decode -> {tuple(model.decode(torch.zeros(2, model.latent_dim)).shape)}, settings {training.RACE_SETTINGS[kind]}")

# %% [markdown]
# Ninety seconds each would take too long for this chapter's time budget, so in a full run both trainings load
# from course checkpoints made by exactly this code (`scripts/make_checkpoints.py vae_mlp vae_conv`), which also
# stored the training curves and the measured time. The smoke run trains both for a few seconds instead.

# %%
race_info = {}
for kind, model in race.items():
    def train_fn(m, kind=kind):
        return training.fit_contestant(m, kind, ds.X_train, X_test, cfg.race_seconds, seed=cfg.seed)

    message, meta = checkpoints.load_or_train(model, f"vae_{kind}", train_fn, use_checkpoint=not cfg.smoke)
    print(message)
    race_info[kind] = meta.get("result", meta)

# %%
race_test = {kind: elbo.negative_elbo(model, X_test) for kind, model in race.items()}
results.record("vae_test_nelbo", {k: r["nelbo"] for k, r in race_test.items()}, unit="nats/image",
               note="test negative ELBO (BCE summed over 784 pixels + KL) after equal training wall time")
results.record("vae_race_train_seconds", {k: race_info[k]["fit_seconds"] for k in race}, unit="s")
print(f"{'model':>5} {'parameters':>10} {'epochs':>6} {'train s':>8} {'test -ELBO':>11} {'rec':>7} {'KL':>6}   (nats / image)")
for kind, r in race_test.items():
    info = race_info[kind]
    print(f"{kind:>5} {train.count_parameters(race[kind]):>10,} {info['num_epochs']:>6.1f} {info['fit_seconds']:>8.1f} "
          f"{r['nelbo']:>11.1f} {r['rec']:>7.1f} {r['kl']:>6.1f}")
winner = min(race_test, key=lambda k: race_test[k]["nelbo"])
margin = max(r["nelbo"] for r in race_test.values()) - race_test[winner]["nelbo"]
print(f"at equal training time the {winner.upper()} VAE wins by {margin:.1f} nats per image")

# %% [markdown]
# The three terms, plotted separately against training time (one point per epoch):

# %%
curves = {f"{kind} ({race_info[kind]['num_epochs']:.1f} epochs)": {
    "x": np.cumsum(race_info[kind]["epoch_seconds"]).tolist(), "nelbo": race_info[kind]["train_nelbo"],
    "rec": race_info[kind]["train_rec"], "kl": race_info[kind]["train_kl"]} for kind in race}
fig = views.curves_figure(curves, x="training seconds")
fig

# %%
per_epoch = {k: race_info[k]["fit_seconds"] / race_info[k]["num_epochs"] for k in race}
print(f"seconds per epoch: MLP {per_epoch['mlp']:.1f}, conv {per_epoch['conv']:.1f} "
      f"({per_epoch['conv'] / per_epoch['mlp']:.1f}x); epochs in the budget: MLP {race_info['mlp']['num_epochs']:.1f}, "
      f"conv {race_info['conv']['num_epochs']:.1f}")
conv_epochs = race_info["conv"]["num_epochs"]
mlp_same = np.interp(conv_epochs, race_info["mlp"]["epochs"], race_info["mlp"]["train_nelbo"])
print(f"training -ELBO after {conv_epochs:.1f} passes over the data: conv {race_info['conv']['train_nelbo'][-1]:.1f}, "
      f"MLP {mlp_same:.1f} (the MLP reached that point after {conv_epochs * per_epoch['mlp']:.0f} s)")

# %% [markdown]
# Read the curves together with the table. The reconstruction term dominates the total and falls for the whole
# run; the KL term rises over the first epochs, as the encoder starts to put information into the code, then
# eases off a little and levels out. An epoch of the conv VAE costs several times an epoch of the MLP, so within the same time it
# sees the data far fewer times. The last line compares the two after the *same number of passes*: that is
# where the convolution's better fit to images shows, if it does, and what the MLP makes up for with its speed.
# The race is decided by the table above, and the margin is small against a total of about 240 nats. On a GPU,
# where convolutions cost little, or with a longer budget, the same race can come out differently: a fair
# comparison always says which budget it fixed.
#
# ## 5. Generating from the prior, and the 2-D manifold
#
# Generation needs no encoder: draw $z \sim \mathcal N(0, I)$ and decode. We show the decoder's mean image (the
# pixel probabilities), as is usual, rather than a noisy Bernoulli draw:

# %%
with torch.no_grad():
    z = torch.randn(16, cfg.latent_dim, generator=torch.Generator().manual_seed(cfg.seed))
    prior_rows = {f"{kind} VAE": model.eval().decode(z.to(device)).cpu() for kind, model in race.items()}
fig = autoencoders.views.labelled_rows(prior_rows, size=0.7)
fig

# %% [markdown]
# The samples are recognizable garments, and blurry: the Bernoulli decoder predicts the *average* of all images
# compatible with a code, and the KL term keeps codes imprecise. Section 12 measures this against a GAN.
#
# With only two latent dimensions, the whole latent space fits on a page. We train a 2-D VAE on the 20,000-image
# subset and decode a grid of codes placed at the prior's quantiles (so that each cell holds the same prior mass):

# %%
vae_2d = models.MLPVAE(latent_dim=2, hidden_dim=400)
history_2d = fit_chapter_vae(vae_2d, X, verbose=True)
fig = views.manifold_figure(vae_2d, n=15)
fig

# %%
means_2d = train.predict(vae_2d, X_test[:3000], method="means").cpu()
fig, ax = plotting.new_figure(figsize=(5.5, 4))
scatter = ax.scatter(means_2d[:, 0], means_2d[:, 1], c=y_test[:3000], cmap="tab10", s=3)
ax.legend(scatter.legend_elements()[0], ds.classes, fontsize=7, loc="center left", bbox_to_anchor=(1, 0.5), frameon=False)
ax.set(xlabel="mu[0]", ylabel="mu[1]", title="posterior means of 3,000 test images (2-D VAE)")
print(f"means: average {means_2d.mean(0).numpy().round(2)}, standard deviation {means_2d.std(0).numpy().round(2)}")
fig

# %% [markdown]
# The grid changes smoothly everywhere: trousers in one region, footwear in another, tops blending into each other.
# The means cluster by class like chapter 05's codes, but here they stay in one compact region around 0, with a
# spread of the same order as the prior's (the numbers above): the KL term holds them there, so the grid's codes
# land where real codes are.
#
# ## 6. Interpolation: AE against VAE
#
# For a fair side-by-side we train chapter 05's `MLPAutoencoder` with the same latent size and a 400-unit hidden
# layer, on the same images:

# %%
autoencoder = autoencoders.models.MLPAutoencoder(cfg.latent_dim, hidden_dims=(400,))
autoencoders.training.fit_autoencoder(autoencoder, X, num_epochs=cfg.epochs, lr=cfg.lr, batch_size=cfg.batch_size, device=device, seed=cfg.seed)
print(f"autoencoder test MSE per pixel: {autoencoders.training.reconstruction_errors(autoencoder, X_test).mean():.4f}")
pair_models = {"AE (ch. 05)": autoencoder, "VAE": race["mlp"]}

# %% [markdown]
# **Interpolation view.** Choose a class to start from and a class to go to (and which example of each); the
# slider walks the straight line between the two codes (for the VAE, between the posterior means). The top row
# is the autoencoder, the bottom row the VAE; the red frame marks the step shown enlarged on the right.

# %% tags=["nbval-ignore-output"]
view = views.interpolation_view(pair_models, X_test, y_test, ds.classes, num_steps=9, class_a=1, class_b=9)
first = lambda c: int(torch.nonzero(y_test == c)[0, 0])  # noqa: E731 - first test image of class c
static_paths = views.interpolation_paths(pair_models, X_test[first(1):first(1) + 1], X_test[first(9):first(9) + 1])
widgets.show(view, autoencoders.views.labelled_rows(static_paths, title="trouser → ankle boot, 9 steps"))

# %% [markdown]
# Both paths start and end at reconstructions. In between, the autoencoder's frames tend to fade into faint,
# shapeless blends; the VAE's frames are blurry too, but more of them look like some garment, because the KL term
# packs the codes into one region and training with noisy codes taught the decoder what the space between them
# means. How far do
# the midpoints lie from real codes? As in chapter 05: the distance to the nearest code of a real test image, in
# units of the typical distance between a real code and its nearest real neighbour, for the midpoints of 200
# random pairs:

# %%
@torch.no_grad()
def midpoint_distance(model, X, n_pairs=200, seed=0):
    """Median distance of pair midpoints to the nearest real code, over the median real nearest-neighbour distance."""
    codes = torch.cat([views.latent_code(model, X[i:i + 1000]) for i in range(0, len(X), 1000)])
    g = torch.Generator().manual_seed(seed)
    a, b = torch.randint(0, len(codes), (2, n_pairs), generator=g)
    nn_real = torch.cdist(codes, codes).fill_diagonal_(float("inf")).min(1).values.median()
    return (torch.cdist((codes[a] + codes[b]) / 2, codes).min(1).values.median() / nn_real).item()


gap = {name: midpoint_distance(model.eval(), X_test[:2000]) for name, model in pair_models.items()}
for name, ratio in gap.items():
    print(f"{name:<12} midpoints lie {ratio:.1f}x the typical real-to-real distance from the nearest real code")

# %% [markdown]
# ## 7. Latent explorer
#
# Which directions of the 20-dimensional space does the decoder use? The per-dimension KL (section 10) tells:
# a dimension with a large KL carries information about the image. The explorer gives you sliders for the four
# most informative dimensions of the MLP VAE, all others held at 0 (the prior's centre); every move decodes live.

# %% tags=["nbval-ignore-output"]
kl_race = elbo.kl_per_dimension(race["mlp"], X_test)
top_dims = kl_race.argsort(descending=True)[:4].tolist()
dim_labels = [f"z[{d}] ({kl_race[d]:.1f} nats)" for d in top_dims]
explorer = views.traversal_view(race["mlp"], top_dims, labels=dim_labels)
widgets.show(explorer, views.traversal_figure(race["mlp"], top_dims, labels=dim_labels))

# %% [markdown]
# Each informative dimension changes something global, such as the garment type, its width, or how dark it is;
# no single dimension is guaranteed to mean one thing (section 9 returns to this). The dimensions with the lowest
# KL change almost nothing:

# %%
quiet = kl_race.argsort()[:4].tolist()
print("lowest-KL dimensions:", ", ".join(f"z[{d}] {kl_race[d]:.3f} nats" for d in quiet))
fig = views.traversal_figure(race["mlp"], quiet[:2], labels=[f"z[{d}]" for d in quiet[:2]])
fig

# %% [markdown]
# ## 8. The latent space in t-SNE
#
# Chapter 05's t-SNE view, now on the VAE's posterior means of test images, coloured by class:

# %%
tsne_images = X_test[:cfg.n_tsne]
tsne_means = train.predict(race["mlp"], tsne_images, method="means").cpu()
embedding = autoencoders.views.tsne_embedding(tsne_means, seed=cfg.seed)
with torch.no_grad():
    tsne_recs = race["mlp"].decode(tsne_means.to(device)).cpu()

# %% tags=["nbval-ignore-output"]
view = autoencoders.views.tsne_view(embedding, y_test[:cfg.n_tsne], ds.classes, tsne_images, tsne_recs)
picks = [int((y_test[:cfg.n_tsne] == c).nonzero()[0, 0]) for c in (1, 5, 8, 9)]
widgets.show(view, autoencoders.views.tsne_figure(embedding, y_test[:cfg.n_tsne], ds.classes, tsne_images, tsne_recs, picks))

# %% [markdown]
# Walk a class with the slider: the "decoded" image is the decoder's output at the mean, a smoothed version of
# the garment. The classes group as they did for the autoencoder, with the same confusions (shirts, tops,
# pullovers and coats overlap): the KL term reshapes the space but does not throw away what separates classes.
#
# ## 9. β-VAE: trading reconstruction against KL
#
# Weighting the KL term, $\text{rec} + \beta\,\mathrm{KL}$ (Higgins et al., 2017), moves the balance. $\beta < 1$
# lets the encoder put more information in the code (sharper reconstructions, but codes that stray from the prior,
# so samples suffer); $\beta > 1$ presses the codes towards the prior (blurrier reconstructions, and a code that
# uses fewer dimensions, which can make each one more interpretable). We train three VAEs that differ only in β.
# To judge sample quality with a number we use chapter 04's Fréchet distance in the course classifier's feature
# space (`gen_eval`, lower is better) between prior samples and real test images:

# %%
classifier, classifier_message = gan.evaluation.fashion_classifier(use_checkpoint=not cfg.smoke, data=ds)
print(classifier_message)
n_eval = cfg.n_eval
real_feats = gan.evaluation.embed(classifier, X_test[:n_eval])
floor = gan.evaluation.frechet_distance(real_feats, gan.evaluation.embed(classifier, X_test[n_eval:2 * n_eval]))
print(f"real vs real floor at N = {n_eval}: Fréchet distance {floor:.2f} (two disjoint sets of test images)")


@torch.no_grad()
def prior_samples(model, n, seed=1):
    z = torch.randn(n, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    return model.eval().decode(z.to(device)).cpu()

# %%
betas = {}
for beta in cfg.betas:
    model = models.MLPVAE(cfg.latent_dim, 400)
    fit_chapter_vae(model, X, beta=beta)
    betas[beta] = {"model": model, **elbo.negative_elbo(model, X_test),
                   "active": elbo.active_dimensions(elbo.kl_per_dimension(model, X_test)),
                   "frechet": gan.evaluation.frechet_distance(gan.evaluation.embed(classifier, prior_samples(model, n_eval)), real_feats)}
results.record("vae_beta_rec", {f"beta_{b:g}".replace(".", "_"): r["rec"] for b, r in betas.items()}, unit="nats/image")
results.record("vae_beta_kl", {f"beta_{b:g}".replace(".", "_"): r["kl"] for b, r in betas.items()}, unit="nats/image")
results.record("vae_beta_frechet", {f"beta_{b:g}".replace(".", "_"): r["frechet"] for b, r in betas.items()},
               note=f"prior samples vs test images, N = {n_eval}, course classifier features")
print(f"{'beta':>5} {'rec':>7} {'KL':>6} {'-ELBO':>7} {'active dims':>11} {'Fréchet (samples)':>18}")
for beta, r in betas.items():
    print(f"{beta:>5} {r['rec']:>7.1f} {r['kl']:>6.1f} {r['nelbo']:>7.1f} {r['active']:>11} {r['frechet']:>18.1f}")

# %% [markdown]
# **β viewer.** Slide through the three models: eight test images, their reconstructions, and eight samples from
# the prior (the same $z$ for every β).

# %% tags=["nbval-ignore-output"]
beta_images = X_test[:8]
with torch.no_grad():
    beta_results = {b: {"recon": r["model"].decode(r["model"].means(beta_images.to(device))).cpu(),
                        "samples": prior_samples(r["model"], 8), "rec": r["rec"], "kl": r["kl"]} for b, r in betas.items()}
widgets.show(views.beta_view(beta_images, beta_results), views.beta_figure(beta_images, beta_results))

# %%
ordered = sorted(betas)
print(f"from beta {ordered[0]:g} to {ordered[-1]:g}: reconstruction {betas[ordered[0]]['rec']:.1f} -> {betas[ordered[-1]]['rec']:.1f} nats, "
      f"KL {betas[ordered[0]]['kl']:.1f} -> {betas[ordered[-1]]['kl']:.1f} nats, active dimensions "
      f"{betas[ordered[0]]['active']} -> {betas[ordered[-1]]['active']}")
best = min(betas, key=lambda b: betas[b]["frechet"])
print(f"best samples by Fréchet distance: beta = {best:g}; best negative ELBO: beta = {min(betas, key=lambda b: betas[b]['nelbo']):g}")

# %% [markdown]
# Raising β buys a smaller KL with a larger reconstruction error: the β = 4 reconstructions lose the print on the
# sweatshirt and the checks on the shirt, and the code uses fewer dimensions. The best negative ELBO is at β = 1,
# as it must be (that is the quantity β = 1 optimizes). Sample quality is a different question, answered by the
# Fréchet distances: pressing the codes harder towards the prior does not make the decoder's averaged images any
# more realistic here, while β < 1 samples are at least as good as β = 1's. Where β > 1 earns its keep is
# elsewhere: fewer, more independent dimensions, which Higgins et al. found easier to interpret one at a time.
#
# ## 10. Posterior collapse
#
# If the KL term wins for some dimension, the encoder's output for that dimension becomes the prior for *every*
# image, $q(z_j\mid x) = \mathcal N(0, 1)$; the dimension then costs nothing and carries nothing, and the decoder
# learns to ignore it. This is **posterior collapse**; when it takes all dimensions, the "autoencoder" reconstructs
# every image from noise and models only the average. Its signature is the **KL per dimension**, averaged over
# the data: near 0 for collapsed dimensions. We call a dimension active when its KL exceeds 0.01 nats.
#
# Collapse is favoured when the KL pressure is strong early in training, before the decoder has learned to use
# the code. Two remedies:
#
# - **KL annealing** (Bowman et al., 2016): multiply the KL term by a weight that ramps from 0 to 1, so the code
#   is first used freely and only then pulled towards the prior;
# - **free bits** (Kingma et al., 2016): do not penalize the first λ nats of each dimension's KL,
#   $\sum_j \max(\lambda, \mathrm{KL}_j)$, so there is no gain in pushing a dimension below λ.
#
# To see collapse clearly we give the code more room than it needs, 32 dimensions, and train four runs that differ
# only in the KL term: plain (β = 1), a strong KL pressure that collapses a large part of the code (β = 4 from
# the first step, as in section 9 but with the larger code), the same β = 4 with annealing, and β = 4 with free bits.

# %%
steps = cfg.epochs * (len(X) // cfg.batch_size)
collapse_runs = {"plain, beta 1": {}, "beta 4": {"beta": 4.0},
                 "beta 4 + annealing": {"beta": 4.0, "anneal_steps": int(cfg.anneal_fraction * steps)},
                 "beta 4 + free bits": {"beta": 4.0, "free_bits": cfg.free_bits}}
collapse = {}
for name, kwargs in collapse_runs.items():
    model = models.MLPVAE(cfg.collapse_latent, 400)
    fit_chapter_vae(model, X, **kwargs)
    kl_dims = elbo.kl_per_dimension(model, X_test)
    collapse[name] = {"kl_dims": kl_dims, "active": elbo.active_dimensions(kl_dims), **elbo.negative_elbo(model, X_test)}
results.record("vae_active_dims", {name.replace(" + ", "_").replace(", ", "_").replace(" ", "_"): r["active"]
                                   for name, r in collapse.items()}, note=f"of {cfg.collapse_latent}; KL > 0.01 nats")
print(f"{'run':<20} {'active dims':>11} {'KL':>6} {'rec':>7} {'-ELBO':>7}")
for name, r in collapse.items():
    print(f"{name:<20} {r['active']:>5} of {cfg.collapse_latent} {r['kl']:>6.1f} {r['rec']:>7.1f} {r['nelbo']:>7.1f}")

# %%
fig = views.kl_bars_figure({name: r["kl_dims"] for name, r in collapse.items()})
fig

# %% [markdown]
# The bars show the KL of each dimension, sorted (log scale; grey: below the 0.01-nat threshold). The plain run
# uses all 32 dimensions, but unevenly: a dozen carry most of the information and the rest only hundredths of a
# nat. Under β = 4 about half of the code collapses to the prior.
#
# The two remedies behave differently, and the difference is the lesson. **Annealing** only changes the *start*
# of training: once the weight reaches β = 4 the objective is the same as before, and here the dimensions
# collapse just the same; annealing helps when collapse is an accident of early training (typically a strong
# decoder that learns to ignore z before the encoder has anything to say), not when the final objective itself
# prefers a collapsed code. **Free bits** change the objective: every dimension keeps exactly about λ nats (the
# flat bars), because information below λ is free. Whether the decoder uses that information is a separate
# question, and the reconstruction column answers it: free bits reconstruct better than the collapsed β = 4 run.
#
# ## 11. Conditional VAE: generating a chosen class
#
# A **conditional VAE** (Sohn et al., 2015) gives the label $y$ to both networks: $q(z\mid x, y)$ and
# $p(x\mid z, y)$. Since the decoder already knows the class, the code is free to hold everything else: the
# style, thickness, brightness. To generate a chosen class, fix $y$ and draw $z$ from the prior.
#
# There is a catch: the encoder sees the image, which shows its class, so nothing *forces* the decoder to listen
# to $y$; it learns to only because moving the class information out of $z$ saves KL, a small and slow signal.
# This model therefore trains on all 60,000 images (three times the steps of the other small models).

# %%
show_source(models.CVAE)
cvae = models.CVAE(cfg.latent_dim, 400)
fit_chapter_vae(cvae, ds.X_train, y=ds.y_train)
print(f"CVAE test negative ELBO: {elbo.negative_elbo(cvae, X_test, y_test)['nelbo']:.1f} nats (it is told the label)")

# %%
with torch.no_grad():
    z = torch.randn(8, cfg.latent_dim, generator=torch.Generator().manual_seed(2))
    rows = {name: cvae.eval().decode(z, torch.full((8,), c)) for c, name in enumerate(ds.classes)}
fig = autoencoders.views.labelled_rows(rows, size=0.62, title="rows: requested class; columns: the same z for every row")
fig

# %% [markdown]
# Within a column the code is the same, and the garments share a "style" across classes. Does the CVAE deliver
# the requested class? We generate 200 images per class and ask the course classifier. Its verdict on blurry
# images is itself imperfect, so we also measure a ceiling: how often it recognizes the CVAE's reconstructions of
# real test images (decoded at their means, with their true labels), which are just as blurry:

# %%
with torch.no_grad():
    requested = torch.arange(10).repeat_interleave(200)
    z = torch.randn(len(requested), cfg.latent_dim, generator=torch.Generator().manual_seed(3))
    generated = cvae.decode(z, requested)
    predicted = train.predict(classifier, generated).argmax(1)
per_class = [(predicted[requested == c] == c).float().mean().item() for c in range(10)]
cvae_hit = (predicted == requested).float().mean().item()
with torch.no_grad():
    ceiling_images = cvae.decode(cvae.encode(X_test[:2000], y_test[:2000])[0], y_test[:2000])
ceiling = (train.predict(classifier, ceiling_images).argmax(1) == y_test[:2000]).float().mean().item()
results.record("vae_cvae_class_accuracy", cvae_hit, note="CVAE samples classified as the requested class")
print("classified as requested: " + ", ".join(f"{ds.classes[c]} {p:.0%}" for c, p in enumerate(per_class)))
print(f"overall: {cvae_hit:.1%} (chance: 10%); reconstructions of real test images recognized: {ceiling:.1%}")

# %% [markdown]
# The rows of the grid follow the requested class, and the classifier agrees with the request far more often than
# chance, though below the ceiling that blur allows: sandals, coats and shirts are where it fails most, the
# classes whose blurry versions look most like another class.
#
# ## 12. VQ-VAE: a discrete code
#
# A **VQ-VAE** (van den Oord et al., 2017) replaces the Gaussian code by a grid of *discrete* symbols. The encoder
# outputs a 7×7 grid of vectors; each vector is replaced by its nearest neighbour in a learned **codebook** of K
# vectors; the decoder sees only those codebook entries. Three pieces make it trainable:
#
# - **nearest-neighbour quantization** has no gradient, so the **straight-through** estimator copies the gradient
#   from the decoder's input to the encoder's output: `z_e + (z_q - z_e).detach()` is z_q going forward and the
#   identity going back;
# - the **codebook loss** $\lVert \mathrm{sg}(z_e) - e\rVert^2$ moves the chosen codebook vectors towards the
#   encoder outputs ($\mathrm{sg}$: stop gradient);
# - the **commitment loss** $\beta\lVert z_e - \mathrm{sg}(e)\rVert^2$ keeps the encoder close to its codes.
#
# There is no KL term: with a uniform prior over codes it would be a constant.

# %%
show_source(models.VectorQuantizer)

# %% [markdown]
# The gradients go where the list says. We backpropagate the decoder's path (a stand-in: the sum of z_q) and the
# two losses separately, and look at which tensors receive a gradient:

# %%
# NBVAL_CHECK_OUTPUT
quantizer = models.VectorQuantizer(num_codes=8, code_dim=4)
z_e = torch.randn(2, 4, 3, 3, requires_grad=True)
z_q, codebook_loss, commitment_loss, indices = quantizer(z_e)
assert torch.allclose(z_q, quantizer.codebook.weight[indices].permute(0, 3, 1, 2))  # forward: codebook vectors
for name, loss in [("decoder path (sum of z_q)", z_q.sum()), ("codebook loss", codebook_loss), ("commitment loss", commitment_loss)]:
    z_e.grad, quantizer.codebook.weight.grad = None, None
    loss.backward(retain_graph=True)
    enc = "yes" if z_e.grad is not None and z_e.grad.abs().sum() > 0 else "no"
    book = "yes" if quantizer.codebook.weight.grad is not None and quantizer.codebook.weight.grad.abs().sum() > 0 else "no"
    print(f"{name:<26} -> encoder output gets gradient: {enc:<3}  codebook gets gradient: {book}")
    if name.startswith("decoder"):
        assert torch.equal(z_e.grad, torch.ones_like(z_e))  # straight-through: the identity

# %% [markdown]
# A small VQ-VAE with a codebook of 64 vectors of size 16. We start the codebook at randomly chosen encoder
# outputs, a common trick: codebook vectors that start far from every encoder output are never chosen and never
# learn ("dead codes").

# %%
vqvae = models.VQVAE(num_codes=64, code_dim=16, channels=32)
with torch.no_grad():
    vqvae.quantizer.init_from(vqvae.encoder(X[:512]), seed=cfg.seed)
vq_loader = batches.Batches(X, batch_size=cfg.batch_size, shuffle=True, drop_last=True, seed=cfg.seed)
optimizer = torch.optim.Adam(vqvae.parameters(), lr=cfg.lr)
vq_history = train.fit(vqvae, vq_loader, num_epochs=cfg.vq_epochs, optimizer=optimizer, step=elbo.vq_step(0.25), monitor=None)

# %%
with torch.no_grad():
    vq_logits, _, _, vq_indices = vqvae.eval()(X_test[:n_eval])
    vq_recon = torch.sigmoid(vq_logits)
    vae_recon = race["mlp"].decode(race["mlp"].means(X_test[:n_eval]))
usage = elbo.codebook_usage(vq_indices, vqvae.quantizer.num_codes)
vq_mse, vae_mse = F.mse_loss(vq_recon, X_test[:n_eval]).item(), F.mse_loss(vae_recon, X_test[:n_eval]).item()
results.record("vae_vq_codebook_used", usage["used"], note=f"of {vqvae.quantizer.num_codes} codes")
results.record("vae_vq_perplexity", usage["perplexity"])
results.record("vae_vq_recon_mse", vq_mse, unit="per pixel")
print(f"codebook usage on {n_eval} test images: {usage['used']} of {vqvae.quantizer.num_codes} codes "
      f"(perplexity {usage['perplexity']:.1f})")
print(f"reconstruction MSE per pixel: VQ-VAE {vq_mse:.4f} (49 symbols of 6 bits = {49 * 6} bits per image), "
      f"MLP VAE at its means {vae_mse:.4f}")

# %%
fig = autoencoders.views.labelled_rows({"test image": X_test[:10], "VQ-VAE": vq_recon[:10], "MLP VAE": vae_recon[:10]}, size=0.7)
fig

# %% [markdown]
# Each image is now 49 symbols from a 64-word vocabulary (294 bits). At a squared error close to the Gaussian
# VAE's, the VQ-VAE keeps more texture (the print, the checks), where the Gaussian VAE averages it away. The
# counts above say how much of the codebook is in use: codes that are never chosen never learn, the classic
# weakness of VQ-VAEs (re-starting unused codes at recent encoder outputs is the usual remedy). What a VQ-VAE
# does not have is a simple prior: to *generate*, one trains a second model (an autoregressive PixelCNN or a transformer) over the
# 7×7 grids of symbols, which is beyond this chapter.
#
# ## 13. VAE against GAN
#
# Chapter 04 trains a GAN on the same Fashion-MNIST images. Both are generative models, with different
# strengths: the VAE trains stably on one loss and has an encoder (a latent space you can navigate, section 6-8)
# and a likelihood bound; the GAN has no encoder and no likelihood, its training is a game that can oscillate or
# collapse to a few modes, but its samples are usually sharper. We measure with chapter 04's tools, at the same
# sample size N for every row: the Fréchet distance to real test images, how many of the ten classes the samples
# cover, and how evenly (entropy ratio, 1 = perfectly even), plus a sharpness ratio (mean difference between
# neighbouring pixels, relative to real images). The "real" row uses another N test images: the floor that
# sampling noise alone produces.

# %%
def sharpness(images):
    """Mean absolute difference between neighbouring pixels (horizontal and vertical)."""
    return ((images[..., 1:, :] - images[..., :-1, :]).abs().mean() + (images[..., 1:] - images[..., :-1]).abs().mean()).item()


contenders = {"real test images (floor)": X_test[n_eval:2 * n_eval], "MLP VAE (prior samples)": prior_samples(race["mlp"], n_eval),
              "conv VAE (prior samples)": prior_samples(race["conv"], n_eval)}
try:
    missing = None
except ImportError:  # chapter 04's module is not part of this copy of the course
    gan, missing = None, "course_utils.gan is not available"
if gan is not None and not cfg.smoke and not checkpoints.has_checkpoint(gan.training.BEST):  # training it would take many minutes
    gan, missing = None, f"chapter 04's checkpoint '{gan.training.BEST}' is not made yet"
if gan is None:
    print(f"{missing}, so the GAN row is missing; the VAE rows are measured as usual.")
else:
    generator, gan_message = gan.training.pretrained_generator(use_checkpoint=not cfg.smoke)
    print(gan_message)
    with torch.no_grad():
        z = torch.randn(n_eval, generator.latent_dim, generator=torch.Generator().manual_seed(4))
        contenders["GAN (chapter 04)"] = (generator.eval()(z.to(device)).cpu() + 1) / 2  # [-1, 1] -> [0, 1]
versus = {name: gan.evaluation.scores(classifier, imgs, real_feats) | {"sharpness": sharpness(imgs) / sharpness(X_test[:n_eval])}
          for name, imgs in contenders.items()}
results.record("vae_vs_gan_frechet", {name.split(" (")[0].replace(" ", "_").lower(): s["frechet"] for name, s in versus.items()},
               note=f"N = {n_eval}, course classifier features")
results.record("vae_vs_gan_classes_covered", {name.split(" (")[0].replace(" ", "_").lower(): s["classes_covered"] for name, s in versus.items()})
print(f"N = {n_eval} per set{'':<14} {'Fréchet':>8} {'classes':>8} {'evenness':>9} {'sharpness':>10}")
for name, s in versus.items():
    print(f"{name:<30} {s['frechet']:>8.2f} {s['classes_covered']:>5}/10 {s['entropy_ratio']:>9.2f} {s['sharpness']:>10.2f}")

# %%
fig = autoencoders.views.labelled_rows({name.replace(" (", "\n("): imgs[:10] for name, imgs in contenders.items()}, size=0.7)
fig

# %% [markdown]
# Read the table from the floor up: nothing can be expected below the real-vs-real row. The VAEs cover all
# classes, fairly evenly: the KL term ties every region of the prior to some training images, so no class is
# dropped. Their samples are clearly blurrier than real images (sharpness ratio well below 1), which is what the
# Fréchet distance in a classifier's feature space punishes. The GAN row (when chapter 04's checkpoint is
# present) shows the other side: samples about as sharp as real images and a much smaller Fréchet distance, with
# all classes covered too, so at the level of classes this GAN shows no mode collapse. What the table cannot
# show is the rest of the trade: the VAE trained on one stable loss with no adversary to balance, gives a
# likelihood bound, and comes with an encoder whose latent space you can walk (sections 6 to 8); the GAN has no
# encoder and no likelihood, and its training needed the care of chapter 04.
#
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | VAE | encoder outputs μ and log σ² of q(z∣x); prior N(0, I); decoder p(x∣z); log-variance keeps σ² positive for free |
# | ELBO | log p(x) ≥ E_q[log p(x∣z)] − KL(q(z∣x) ‖ p(z)); minimize the negative, in nats per image |
# | Gaussian KL | ½(μ² + σ² − 1 − log σ²) per dimension; 0 only at the prior; checked against Monte-Carlo |
# | reparameterization | z = μ + σ ⊙ ε: sampling becomes differentiable in μ and σ |
# | MLP vs conv | compare at equal wall time; on a 2-core CPU the cheap MLP sees far more epochs |
# | prior samples | decode z ~ N(0, I): plausible but blurry; the 2-D manifold changes smoothly |
# | interpolation | VAE paths stay among garments; AE paths cross empty regions |
# | β-VAE | β > 1: less KL, worse reconstruction, fewer active dimensions; β = 1 optimizes the ELBO |
# | posterior collapse | dimensions with KL ≈ 0 carry nothing; detect per dimension; KL annealing and free bits |
# | CVAE | condition both networks on y; choose the class, the code holds the style |
# | VQ-VAE | discrete codebook, nearest neighbour, straight-through gradient, codebook + commitment losses |
# | VAE vs GAN | VAE: stable, encoder, likelihood bound, full coverage, blur; GAN: sharper, no encoder, can drop modes |
#
# The numbers this run produced:

# %%
for kind, r in race_test.items():
    print(f"{kind} VAE: test negative ELBO {r['nelbo']:.1f} nats after {race_info[kind]['fit_seconds']:.0f} s "
          f"({race_info[kind]['num_epochs']:.1f} epochs) of training")
print("beta-VAE (rec / KL nats):", ", ".join(f"beta {b:g}: {r['rec']:.1f} / {r['kl']:.1f}" for b, r in betas.items()))
print("active dimensions of 32:", ", ".join(f"{n}: {r['active']}" for n, r in collapse.items()))
print(f"CVAE samples classified as the requested class: {cvae_hit:.1%}")
print(f"VQ-VAE: {usage['used']} of {vqvae.quantizer.num_codes} codes used, reconstruction MSE {vq_mse:.4f}")
print("Fréchet distance at N =", n_eval, ":", ", ".join(f"{n} {s['frechet']:.1f}" for n, s in versus.items()))

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: the Gaussian KL.** Write `kl_to_standard_normal(mu, logvar)` that returns the KL divergence from
# $\mathcal N(\mu, e^{\text{logvar}})$ to $\mathcal N(0, 1)$ for every element (same shape as `mu`), from the
# formula of section 2, without calling `elbo.gaussian_kl`. The check compares it with a Monte-Carlo estimate.

# %% jupyter={"source_hidden": true} tags=["solution"]
def kl_to_standard_normal(mu, logvar):
    return 0.5 * (mu**2 + torch.exp(logvar) - 1 - logvar)


# %%
checks.check_gaussian_kl(kl_to_standard_normal)

# %% [markdown]
# **Exercise 2: reparameterize.** Write `sample_z(mu, logvar)` that returns one sample of
# $\mathcal N(\mu, e^{\text{logvar}})$ per element, differentiable in both arguments. The check tests the sample's
# mean and spread and that gradients reach `mu` and `logvar`.

# %% jupyter={"source_hidden": true} tags=["solution"]
def sample_z(mu, logvar):
    return mu + torch.exp(0.5 * logvar) * torch.randn_like(mu)


# %%
checks.check_reparameterize(sample_z)

# %% [markdown]
# **Exercise 3: build a CVAE.** Write `ConditionalVAE(latent_dim)` with `encode(x, y) -> (mu, logvar)`,
# `decode_logits(z, y)`, `decode(z, y)` (probabilities in [0, 1]) and `forward(x, y) -> (logits, mu, logvar)`,
# where the label enters both networks, this time through a learned `nn.Embedding(10, 16)` instead of a one-hot
# vector. Train it briefly with `fit_chapter_vae(model, X, y=y)` and show one generated image per class.

# %% jupyter={"source_hidden": true} tags=["solution"]
class ConditionalVAE(nn.Module):
    def __init__(self, latent_dim=20, hidden_dim=400, num_classes=10, label_dim=16):
        super().__init__()
        self.label = nn.Embedding(num_classes, label_dim)
        self.encoder = nn.Sequential(nn.Linear(784 + label_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 2 * latent_dim))
        self.decoder = nn.Sequential(nn.Linear(latent_dim + label_dim, hidden_dim), nn.ReLU(), nn.Linear(hidden_dim, 784))
        self.latent_dim = latent_dim

    def encode(self, x, y):
        return self.encoder(torch.cat([x.flatten(1), self.label(y)], 1)).chunk(2, dim=1)

    def decode_logits(self, z, y):
        return self.decoder(torch.cat([z, self.label(y)], 1)).view(-1, 1, 28, 28)

    def decode(self, z, y):
        return torch.sigmoid(self.decode_logits(z, y))

    def forward(self, x, y):
        mu, logvar = self.encode(x, y)
        return self.decode_logits(elbo.reparameterize(mu, logvar), y), mu, logvar


my_cvae = ConditionalVAE(cfg.latent_dim)
fit_chapter_vae(my_cvae, X, y=y, num_epochs=2)
with torch.no_grad():
    display(plotting.image_row(my_cvae.eval().decode(torch.zeros(10, cfg.latent_dim), torch.arange(10)),
                               titles=ds.classes, size=0.9))

# %%
checks.check_cvae(my_cvae)

# %% [markdown]
# **Exercise 4: the vector quantizer.** Write `quantize(z_e, codebook)` for a batch of vectors `z_e` (N, D) and a
# codebook (K, D). Return `(z_q, indices)`: `indices` (N,) the nearest codebook row of each vector, and `z_q`
# (N, D) equal to those rows going forward but passing the gradient straight through to `z_e` (and none to the
# codebook).

# %% jupyter={"source_hidden": true} tags=["solution"]
def quantize(z_e, codebook):
    indices = torch.cdist(z_e, codebook).argmin(1)
    z_q = codebook[indices]
    return z_e + (z_q - z_e).detach(), indices


# %%
checks.check_vector_quantizer(quantize)

# %% [markdown]
# ## Further reading
#
# - D. P. Kingma, M. Welling. *Auto-encoding variational Bayes.* ICLR 2014, arXiv:1312.6114 (the VAE, the reparameterization trick).
# - D. J. Rezende, S. Mohamed, D. Wierstra. *Stochastic backpropagation and approximate inference in deep generative models.* ICML 2014, arXiv:1401.4082.
# - D. P. Kingma, M. Welling. *An introduction to variational autoencoders.* Foundations and Trends in ML, 2019, arXiv:1906.02691.
# - I. Higgins et al. *β-VAE: learning basic visual concepts with a constrained variational framework.* ICLR 2017.
# - S. R. Bowman et al. *Generating sentences from a continuous space.* CoNLL 2016, arXiv:1511.06349 (posterior collapse, KL annealing).
# - D. P. Kingma et al. *Improved variational inference with inverse autoregressive flow.* NeurIPS 2016, arXiv:1606.04934 (free bits).
# - C. K. Sønderby et al. *Ladder variational autoencoders.* NeurIPS 2016, arXiv:1602.02282 (warm-up, inactive units).
# - Y. Burda, R. Grosse, R. Salakhutdinov. *Importance weighted autoencoders.* ICLR 2016, arXiv:1509.00519 (active units).
# - K. Sohn, H. Lee, X. Yan. *Learning structured output representation using deep conditional generative models.* NeurIPS 2015 (CVAE).
# - A. van den Oord, O. Vinyals, K. Kavukcuoglu. *Neural discrete representation learning.* NeurIPS 2017, arXiv:1711.00937 (VQ-VAE).
# - G. Loaiza-Ganem, J. P. Cunningham. *The continuous Bernoulli: fixing a pervasive error in variational autoencoders.* NeurIPS 2019, arXiv:1907.06845 (why BCE on grey levels is not a true likelihood).
# - M. Heusel et al. *GANs trained by a two time-scale update rule converge to a local Nash equilibrium.* NeurIPS 2017, arXiv:1706.08500 (the Fréchet distance, FID).

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
