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
# # 04 · Generative adversarial networks
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dla-interactive/deep-learning-architectures/blob/main/notebooks/04_gan.ipynb)
#
# **After this chapter you can**
# - state the minimax game between a generator and a discriminator, and what its equilibrium looks like;
# - write one GAN training step (discriminator on real and *detached* fake images, then generator) and plug it
#   into an ordinary trainer;
# - explain with a plot of gradients why generators are trained with the non-saturating loss;
# - produce mode collapse on a 2-D toy problem, count the modes a generator covers, and fix the collapse;
# - build a DCGAN for Fashion-MNIST and say where batch norm, ReLU, tanh and LeakyReLU go;
# - train Wasserstein (gradient penalty) and spectrally normalized variants and compare them with numbers;
# - evaluate generated images with a Fréchet distance and class coverage in a classifier's feature space, and
#   say how that differs from the published FID;
# - walk through a generator's latent space.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | toy GANs trained live (seconds each), a short live DCGAN run, three Fashion-MNIST GANs loaded from course checkpoints (each trained from scratch in 5 to 8 minutes by `python scripts/make_checkpoints.py gan_dcgan gan_wgan_gp gan_sngan`), evaluation on 5,000 samples | about 3 minutes (measured: see the README's chapter table) |
# | smoke (`COURSE_SMOKE=1`) | short toy runs (too short to cover the ring); tiny Fashion-MNIST GANs trained on 1,500 images instead of loading checkpoints; 500 samples: checks that everything runs | under 45 seconds |
#
# Prerequisites: chapter 01 (convolutions, batch norm, the course's trainer `train.fit`), binary cross-entropy,
# transposed convolutions (chapter 05 explains them too).

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
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import batches, data, plotting, results, runtime, train, widgets
from course_utils.gan import checks, evaluation, losses, models, training, views
from course_utils.widgets import show_source

chapter_start = time.perf_counter()
cfg = runtime.Config(
    toy_steps=(1800, 300),         # training steps of each toy GAN
    toy_batch_size=(256, 256),
    toy_seeds=((0, 1, 2), (0,)),   # every toy configuration is trained once per seed
    n_live=(12800, 1500),          # Fashion-MNIST images of the short live DCGAN run (one epoch)
    batch_size=(64, 64),
    use_checkpoints=(True, False), # load the three course GANs (smoke mode trains tiny ones instead)
    n_eval=(5000, 500),            # generated samples per evaluation, and real test images per half
    seed=(0, 0),
)
cfg

# %%
runtime.seed_everything(cfg.seed)
device = runtime.get_device()
ds = data.load_fashion_mnist(n_train=cfg.n_live, n_test=2 * cfg.n_eval)
print(ds)
print("device:", device, "| threads:", torch.get_num_threads())

# %% [markdown]
# ## 1. Two networks, one game
#
# A **generator** $G$ turns random noise $z \sim p_z$ (here a standard normal vector) into a sample $G(z)$, an
# image for instance. It is never shown a training example. A **discriminator** $D$ sees real examples $x$ and
# generated ones and outputs $D(\cdot) \in (0, 1)$, its belief that the input is real. They play a two-player game
# with one **value function**:
#
# $$\min_G \max_D \; V(D, G) = \mathbb{E}_{x\sim p_\text{data}}[\log D(x)] + \mathbb{E}_{z\sim p_z}[\log(1 - D(G(z)))].$$
#
# $D$ maximizes $V$: it wants $D(x) \to 1$ on real data and $D(G(z)) \to 0$ on fakes, which is ordinary binary
# classification with cross-entropy. $G$ minimizes $V$: it wants its fakes called real. For a fixed $G$ whose
# samples have density $p_g$, the best discriminator is $D^*(x) = p_\text{data}(x) / (p_\text{data}(x) + p_g(x))$
# (maximize $p_\text{data}\log D + p_g \log(1-D)$ pointwise). If the generator matches the data, $p_g = p_\text{data}$,
# then $D^*(x) = \tfrac12$ **everywhere**: the discriminator can only guess, and $V = \log\tfrac12 + \log\tfrac12 = -\log 4$.
# That is the game's equilibrium (Goodfellow et al., 2014), and at it $V$ equals $-\log 4$ plus twice the Jensen–Shannon
# divergence between data and generator, which is zero only when the two distributions agree.
#
# Networks output unbounded **logits** $\ell$ and $D = \sigma(\ell)$; the losses are written on logits because
# `binary_cross_entropy_with_logits` is numerically stable where $\log\sigma(\ell)$ computed naively is not. The
# discriminator minimizes $-V$:

# %%
def d_loss_from_logits(real_logits, fake_logits):
    """-V: binary cross-entropy with real -> 1 and fake -> 0."""
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


# %%
# NBVAL_CHECK_OUTPUT
real_logits, fake_logits = torch.randn(5, 1), torch.randn(5, 1)
by_hand = -(torch.log(torch.sigmoid(real_logits)).mean() + torch.log(1 - torch.sigmoid(fake_logits)).mean())
assert torch.allclose(d_loss_from_logits(real_logits, fake_logits), by_hand, atol=1e-6)
assert torch.allclose(d_loss_from_logits(real_logits, fake_logits), losses.discriminator_loss(real_logits, fake_logits))
equilibrium = d_loss_from_logits(torch.zeros(5, 1), torch.zeros(5, 1))  # logit 0 means D = 1/2
print(f"D = 1/2 everywhere: -V = {equilibrium:.4f}, log 4 = {math.log(4):.4f}")

# %% [markdown]
# The same function lives in `course_utils.gan` as `losses.discriminator_loss`, and from here on we use that one.
#
# ## 2. The generator's loss: saturating or not
#
# Read literally, the game asks $G$ to minimize $\log(1 - D(G(z)))$, the **saturating** (minimax) loss. Early in
# training the fakes are bad, $D$ rejects them confidently, $D(G(z)) \approx 0$, and there this loss is flat.
# Goodfellow et al. therefore proposed the **non-saturating** loss: maximize $\log D(G(z))$, i.e. minimize
# $-\log D(G(z))$. Same fixed point, very different gradients. Autograd gives the derivative of each loss with
# respect to the logit $\ell$ of $D(G(z)) = \sigma(\ell)$, which is what flows back through $D$ into $G$:

# %%
d_fake = torch.linspace(0.001, 0.999, 400)
logit = torch.logit(d_fake).requires_grad_(True)
grads = {}
for kind in ("saturating", "non_saturating"):
    (g,) = torch.autograd.grad(losses.generator_loss(logit, kind) * len(logit), logit)  # per-sample gradient
    grads[kind] = g.detach()

fig, ax = plotting.new_figure(figsize=(5.5, 3.2))
ax.plot(d_fake, grads["saturating"].abs(), label="saturating: minimize log(1 − D(G(z)))")
ax.plot(d_fake, grads["non_saturating"].abs(), label="non-saturating: minimize −log D(G(z))")
ax.set(xlabel="D(G(z))", ylabel="|∂ loss / ∂ logit|", title="Gradient reaching the generator")
ax.axvspan(0, 0.1, color="0.9", label="early training: D rejects the fakes")
ax.legend(fontsize=8)
fig

# %%
# NBVAL_CHECK_OUTPUT
print(f"{'D(G(z))':>8} {'saturating':>11} {'non-saturating':>15}")
for p in (0.001, 0.01, 0.5, 0.99):
    lg = torch.logit(torch.tensor([p], dtype=torch.float64)).requires_grad_(True)
    sat, = torch.autograd.grad(losses.generator_loss(lg, "saturating"), lg)
    non, = torch.autograd.grad(losses.generator_loss(lg, "non_saturating"), lg)
    print(f"{p:>8} {sat.item():>11.3f} {non.item():>15.3f}")

# %% [markdown]
# The magnitudes are exactly $D$ for the saturating loss and $1 - D$ for the non-saturating one. Where the
# generator is worst, $D(G(z)) = 0.001$, the saturating loss gives it a thousandth of the signal the
# non-saturating one gives; it only gets a strong gradient once its fakes already fool $D$. A discriminator that
# wins early (a failure called **D overpowering G**) thus stalls a minimax generator. Every GAN below uses the
# non-saturating loss; exercise 1 asks you to write it.
#
# ## 3. One training step
#
# Each step updates both networks once, in this order:
#
# 1. draw $z$, make fakes $G(z)$ and **detach** them: $D$'s loss must not send gradients into $G$'s weights;
# 2. update $D$ on a real batch and the fake batch with `discriminator_loss`;
# 3. draw fresh $z$ and update $G$ to make $D$ call its fakes real, gradients flowing *through* $D$ (whose own
#    weights stay put: they have their own optimizer, and we switch their gradients off for this pass).
#
# The course's trainer `train.fit` runs any `step(model, batch, optimizer)` and passes `optimizer` through
# untouched, so a GAN needs no loop of its own: the model is a `models.GAN` holding `G` and `D`, the optimizer a dict
# `{"G": ..., "D": ...}`. Here is the step, written out:

# %%
def my_gan_step(model, batch, optimizer):
    G, D, real = model.G, model.D, batch[0]
    fake = G(model.sample_z(len(real))).detach()                       # 1. no gradient into G
    d_loss = losses.discriminator_loss(D(real), D(fake))                    # 2. D: real -> 1, fake -> 0
    optimizer["D"].zero_grad(set_to_none=True)
    d_loss.backward()
    optimizer["D"].step()
    D.requires_grad_(False)
    g_loss = losses.generator_loss(D(G(model.sample_z(len(real)))), "non_saturating")  # 3. G: fool D
    optimizer["G"].zero_grad(set_to_none=True)
    g_loss.backward()
    optimizer["G"].step()
    D.requires_grad_(True)
    return {"d_loss": d_loss.item(), "g_loss": g_loss.item()}


# %% [markdown]
# A check that it does what the list says: a spy wraps $D$'s optimizer and records whether $G$ had received any
# gradient by the time $D$ stepped (it must not have), and both networks' weights must move:

# %%
# NBVAL_CHECK_OUTPUT
class Spy(torch.optim.SGD):
    """SGD that notes, at each step, whether any generator weight already holds a gradient."""

    def __init__(self, params, watched, **kwargs):
        super().__init__(params, **kwargs)
        self.watched, self.saw_grad = list(watched), []

    def step(self, closure=None):
        self.saw_grad.append(any(p.grad is not None for p in self.watched))
        return super().step(closure)


torch.manual_seed(0)
toy = models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True))
before = {name: p.detach().clone() for name, p in toy.named_parameters()}
optimizer = {"G": torch.optim.SGD(toy.G.parameters(), lr=0.1), "D": Spy(toy.D.parameters(), toy.G.parameters(), lr=0.1)}
logs = my_gan_step(toy, (evaluation.ring_of_gaussians(64),), optimizer)
moved = {part: all(not torch.equal(p, before[n]) for n, p in toy.named_parameters() if n.startswith(part)) for part in "GD"}
print("G had a gradient when D stepped:", optimizer["D"].saw_grad)
print("every weight of G moved:", moved["G"], "| every weight of D moved:", moved["D"])
print("logs:", sorted(logs))
# the package's training.gan_step is this step: same start, same random draws -> the same weights, bit for bit
twins = [models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True)) for _ in range(2)]
twins[1].load_state_dict(twins[0].state_dict())
batch = (evaluation.ring_of_gaussians(64, generator=torch.Generator().manual_seed(1)),)
for twin, step in zip(twins, [my_gan_step, training.gan_step()]):
    torch.manual_seed(2)
    step(twin, batch, {"G": torch.optim.SGD(twin.G.parameters(), lr=0.1), "D": torch.optim.SGD(twin.D.parameters(), lr=0.1)})
assert all(torch.equal(a, b) for a, b in zip(twins[0].state_dict().values(), twins[1].state_dict().values()))

# %% [markdown]
# Remove the `.detach()` and the first answer turns `True`: $D$'s backward pass would fill $G$'s gradients, and
# unless something zeroes them, $G$'s next update would mix in a push *towards* being caught.
#
# `training.gan_step` is this step (the last lines of the cell above check that it gives the same weights) plus one
# option used below, the number of $D$ updates per $G$ update (`d_steps`), and it returns $D$'s average output on real
# and fake data too, so you can watch the game. The Wasserstein critic of section 6 has a step of its own,
# `training.wgan_gp_step`, numbered the same way:

# %%
show_source(training.gan_step)

# %% [markdown]
# ## 4. A GAN you can watch: eight Gaussians on a ring
#
# Images are a poor place to *see* a GAN fail. The classic test bed (Metz et al., 2017) is a mixture of eight
# Gaussians on a circle: a 2-D distribution with eight well-separated **modes**. A generator that covers all of
# them has learned the distribution; one that puts all its samples on one or two has **collapsed**. Because the
# data are points, we can count: each generated point within three standard deviations of a centre is assigned to
# it, and a mode counts as covered when it holds at least 2 % of the samples (`evaluation.count_modes`).

# %%
# NBVAL_CHECK_OUTPUT
centers = evaluation.ring_centers(8, radius=2.0)
ring_std = 0.05
real_points = evaluation.ring_of_gaussians(4000, std=ring_std, generator=torch.Generator().manual_seed(0))
print("centres:", tuple(centers.shape), "| sample:", tuple(real_points.shape))
print("real data:", evaluation.count_modes(real_points, centers, max_dist=3 * ring_std))
print("all points on one centre:", evaluation.count_modes(centers[[0]].repeat(4000, 1), centers, max_dist=3 * ring_std))

# %% [markdown]
# Generator and discriminator are small MLPs (three hidden layers of 128 units; ReLU in $G$, LeakyReLU in $D$) and
# $z$ is 2-D. Training goes through `train.fit` with the step above; a `SampleGrids` callback keeps the generator's
# output for 1,000 fixed $z$ as training goes on, and a `BatchLog` keeps every step's losses.

# %%
def train_toy(settings, num_steps, batch_size, seed):
    """A toy GAN trained with gan_step on the ring; settings: lr_g, lr_d and optionally loss, d_steps."""
    torch.manual_seed(seed)
    model = models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True))
    d_steps = settings.get("d_steps", 1)
    X = evaluation.ring_of_gaussians(num_steps * batch_size * d_steps, std=0.05, generator=torch.Generator().manual_seed(seed))
    loader = batches.Batches(X, batch_size=batch_size * d_steps, shuffle=True, drop_last=True, seed=seed)
    optimizer = {"G": torch.optim.Adam(model.G.parameters(), lr=settings["lr_g"], betas=(0.5, 0.999)),
                 "D": torch.optim.Adam(model.D.parameters(), lr=settings["lr_d"], betas=(0.5, 0.999))}
    snapshots = training.SampleGrids(torch.randn(1000, 2, generator=torch.Generator().manual_seed(99)), every=num_steps // 6)
    log = training.BatchLog()
    train.fit(model, loader, num_epochs=1, optimizer=optimizer, monitor=None, callbacks=[snapshots, log],
              step=training.gan_step(settings.get("loss", "non_saturating"), d_steps), live_plot=False, verbose=False)
    return model, snapshots, log.logs


# %% [markdown]
# Two configurations that differ in one number. In the first, $G$ learns ten times faster than $D$
# (learning rates $10^{-3}$ and $10^{-4}$); in the second both use $10^{-3}$. Each is trained once per seed:

# %%
toy_configs = {"G 10x faster than D": {"lr_g": 1e-3, "lr_d": 1e-4}, "balanced": {"lr_g": 1e-3, "lr_d": 1e-3}}
toy_runs, toy_modes = {}, {}
start = time.perf_counter()
for label, settings in toy_configs.items():
    for seed in cfg.toy_seeds:
        model, snapshots, logs = train_toy(settings, cfg.toy_steps, cfg.toy_batch_size, seed)
        toy_runs[label, seed] = (snapshots, logs)
        toy_modes[label, seed] = evaluation.count_modes(snapshots.frames[-1], centers, max_dist=3 * ring_std)
print(f"{len(toy_runs)} toy GANs of {cfg.toy_steps} steps in {time.perf_counter() - start:.0f} s")
for (label, seed), count in toy_modes.items():
    print(f"{label:<20} seed {seed}: {count}")

# %%
fig = views.ring_snapshots_figure(
    real_points[:1000], {label: (toy_runs[label, cfg.toy_seeds[0]][0].frames, toy_runs[label, cfg.toy_seeds[0]][0].steps)
                         for label in toy_configs}, centers)
fig

# %% [markdown]
# Grey: the data. Red: the generator's samples for the same 1,000 $z$ at six moments of training (seed 0).
#
# The fast generator **collapses**: all its samples sit in one narrow clump, often not even on a mode, and from
# snapshot to snapshot the clump *jumps*. That is the mechanism of mode collapse. $G$ moves its samples to wherever $D$ currently
# says "real"; a slow $D$ then learns that this spot is fake, and $G$, faster, abandons it for the next one.
# Nothing in the loss rewards *spreading out*, because $G$ is only ever judged on the samples it makes now.
# With balanced rates $D$ keeps up, punishes any mode that gets too many samples, and the generator spreads over
# the ring. The counts per seed:

# %%
results.record("gan_toy_modes_covered", {f"{'collapsing' if 'faster' in label else 'working'}_seed{s}": toy_modes[label, s].covered
                                         for label in toy_configs for s in cfg.toy_seeds}, unit="modes of 8")
for label in toy_configs:
    covered = [toy_modes[label, s].covered for s in cfg.toy_seeds]
    print(f"{label:<20} modes covered per seed: {covered}   (of 8)")

# %% [markdown]
# The losses tell a second story. GAN losses are not a progress bar: each network's loss depends on the
# other, so they **oscillate** instead of falling. Below, every step's losses (moving average over 25 steps):

# %%
fig = views.training_curves_figure({f"{label} (seed {cfg.toy_seeds[0]})": toy_runs[label, cfg.toy_seeds[0]][1]
                                        for label in toy_configs})
fig

# %%
for label in toy_configs:
    logs = toy_runs[label, cfg.toy_seeds[0]][1]
    tail = slice(len(logs["d_loss"]) // 2, None)
    print(f"{label:<20} second half: mean d_loss {np.mean(logs['d_loss'][tail]):.3f}, mean g_loss "
          f"{np.mean(logs['g_loss'][tail]):.3f}, mean D(real) {np.mean(logs['d_real'][tail]):.2f}, "
          f"mean D(fake) {np.mean(logs['d_fake'][tail]):.2f}")

# %% [markdown]
# For reference, $D = \tfrac12$ everywhere gives `d_loss` $= \log 4 \approx 1.39$ and `g_loss` $= \log 2 \approx 0.69$.
# Compare the two rows with those values. The *collapsed* run sits almost exactly on them, with $D$ answering
# about ½ for real and fake alike: not because the generator has matched the data, but because the slow
# discriminator never catches the clump that keeps jumping away. The balanced run wanders away from them and back
# as the two networks take turns gaining the upper hand. So "the losses are at their equilibrium values" does not
# mean "the GAN has converged": look at samples, and measure them (section 7).
#
# ## 5. DCGAN: a convolutional GAN for Fashion-MNIST
#
# Radford et al. (2016) found a recipe that made convolutional GANs train reliably, and it still is the baseline:
#
# - the **generator** upsamples with **transposed convolutions** (stride 2 doubles the size), from a small
#   spatial map made by a linear layer out of $z$; **batch norm + ReLU** after every layer except the output,
#   which is **tanh**, so images live in **[−1, 1]** and the training data are scaled to the same range;
# - the **discriminator** downsamples with **strided convolutions** (no pooling) and uses **LeakyReLU(0.2)**, so
#   some gradient flows even for negative inputs; **batch norm** on its inner layers but **not on the input
#   layer** (it would erase the image statistics D must judge) and not on the output;
# - weights initialized from $\mathcal N(0, 0.02)$; Adam with learning rate $2\cdot10^{-4}$ and $\beta_1 = 0.5$.
#
# For 28×28 images two up- and two down-sampling stages suffice (7 → 14 → 28):

# %%
show_source(models.Generator)
show_source(models.Discriminator)

# %%
# NBVAL_CHECK_OUTPUT
dcgan = training.make_gan("gan_dcgan")
z = torch.randn(4, dcgan.latent_dim)
x = dcgan.G(z)
print("z:", tuple(z.shape), "-> G(z):", tuple(x.shape), "| all pixels in [-1, 1]:", bool(x.abs().max() <= 1))
for name, layer in [("conv 1", dcgan.D.net[:2]), ("conv 2", dcgan.D.net[:5]), ("logit", dcgan.D)]:
    print(f"D {name}: {tuple(layer(x).shape)}")
print(f"parameters: G {train.count_parameters(dcgan.G):,}, D {train.count_parameters(dcgan.D):,}")
assert x.min() >= -1 and x.max() <= 1

# %% [markdown]
# The pixel data are in [0, 1]; `training.to_gan_range` maps them to [−1, 1], and `(x + 1) / 2` maps samples back for
# display. A short live run shows the machinery at work: one epoch over a subset, through `train.fit` with
# `gan_step` (this is `training.fit_variant`, which also builds the two Adam optimizers and keeps sample grids).
# `d_real` and `d_fake` are $D$'s mean output on real and fake images.

# %%
live = training.make_gan("gan_dcgan", seed=cfg.seed)
start = time.perf_counter()
live_history, live_grids = training.fit_variant(live, "gan_dcgan", ds.X_train[:cfg.n_live], num_epochs=1,
                                             batch_size=cfg.batch_size, snapshot_every=50, device=device,
                                             verbose=True, live_plot=False)
live_seconds = time.perf_counter() - start
print(f"{cfg.n_live // cfg.batch_size} steps in {live_seconds:.0f} s")

# %%
fig = views.progress_figure(live_grids.frames, live_grids.steps, steps_per_epoch=cfg.n_live // cfg.batch_size)
fig

# %% [markdown]
# Within two hundred updates bright blobs with the rough outlines of garments appear, but this is far from done. A convincing
# generator needs a few epochs over all 60,000 images: 5 to 8 minutes per model on two CPU cores (the last cell
# of the chapter prints each checkpoint's time), too long to repeat in a notebook. The course ships three such GANs as checkpoints, made by
# `python scripts/make_checkpoints.py gan_dcgan gan_wgan_gp gan_sngan` (seeded; each file under 5 MB, with its
# SHA-256 checksum beside it, loaded with `weights_only=True`). The cell below loads them, or trains when there
# is no checkpoint (and, in smoke mode, trains tiny versions), and says which it did.
#
# ## 6. Failure modes and three remedies
#
# Section 4 showed the classic failures: **mode collapse**, and **oscillating losses** that say little about
# progress. Section 2 showed the third: a **discriminator that overpowers** the generator and leaves it without a
# useful gradient. Three widely used remedies, each a variant of the DCGAN above:
#
# - **Balance the updates.** The ratio of $D$ to $G$ updates (or of their learning rates) decides who keeps up
#   with whom; section 4 turned collapse into coverage with it. `gan_step(d_steps=k)` gives $D$ $k$ updates per
#   $G$ update.
# - **WGAN** (Arjovsky et al., 2017). Replace the classifier by a **critic** $f$ with an unbounded score and train
#   it to estimate the Wasserstein-1 (earth mover's) distance,
#   $\max_{\lVert f\rVert_L \le 1} \mathbb E[f(x)] - \mathbb E[f(G(z))]$; $G$ minimizes $-\mathbb E[f(G(z))]$. Unlike
#   the Jensen–Shannon divergence, this distance shrinks smoothly as the distributions approach each other even
#   when they do not overlap, so the critic can be trained hard without starving $G$. The catch is the constraint
#   that $f$ be 1-Lipschitz. The original paper **clips** every weight to $[-c, c]$ (crude: it limits capacity);
#   **WGAN-GP** (Gulrajani et al., 2017) adds a **gradient penalty** $\lambda\,\mathbb E[(\lVert\nabla_{\hat x} f(\hat x)\rVert
#   - 1)^2]$ at random points between real and fake samples. The penalty is per sample, so the critic uses no
#   batch norm.
# - **Spectral normalization** (Miyato et al., 2018). Divide each layer's weight by its largest singular value
#   (estimated by one step of power iteration per forward pass), so every layer, and hence $D$, is at most
#   1-Lipschitz. It keeps the ordinary GAN loss, costs almost nothing, and replaces batch norm in $D$.
#
# Here is the penalty, and what spectral normalization does to a weight:

# %%
show_source(losses.gradient_penalty)

# %%
torch.manual_seed(0)
layer = nn.Linear(50, 20)
print(f"largest singular value of a random 50 -> 20 layer: {torch.linalg.matrix_norm(layer.weight, ord=2):.3f}")
sn_layer = nn.utils.parametrizations.spectral_norm(nn.Linear(50, 20))
for _ in range(20):  # each forward pass in training mode refines the power-iteration estimate
    sn_layer(torch.randn(8, 50))
print(f"after spectral_norm: {torch.linalg.matrix_norm(sn_layer.weight, ord=2):.3f}")

# %% [markdown]
# The three Fashion-MNIST GANs share the generator and the training length (3 epochs, one $D$ update per $G$
# update, batch 64) and differ in the discriminator: DCGAN (batch norm, non-saturating loss), **WGAN-GP** (critic
# without normalization, $\lambda = 10$, Adam with $\beta = (0, 0.9)$ and learning rate $10^{-4}$ as in the paper;
# the paper gives the critic five updates per $G$ update, we give it one to keep the same training budget) and
# **spectral norm** (every $D$ layer spectrally normalized, no batch norm, non-saturating loss).

# %%
variants, metas = {}, {}
for name, variant in training.VARIANTS.items():
    model, message, meta = training.load_variant(name, use_checkpoint=cfg.use_checkpoints, device=device)
    variants[name], metas[name] = model, meta
    print(f"{variant.title:<14} {message}")

# %%
sample_z = torch.randn(48, training.LATENT_DIM, generator=torch.Generator().manual_seed(cfg.seed))
with torch.no_grad():
    grids = {training.VARIANTS[n].title: views.to_unit(m.G(sample_z.to(device))).cpu() for n, m in variants.items()}
fig = views.sample_grids_figure(grids)
fig

# %% [markdown]
# The same 48 latent vectors through each generator. Which is best? Looking is not measuring; the next section
# puts numbers on it.
#
# ## 7. Evaluation: a Fréchet distance and class coverage
#
# A GAN has no likelihood to report, so its samples are compared with real data. The standard number is the
# **Fréchet Inception Distance** (FID; Heusel et al., 2017): embed real and generated images with an Inception-v3
# network trained on ImageNet, fit a Gaussian to each set of features, and report the Fréchet (2-Wasserstein)
# distance between the two Gaussians,
#
# $$d^2 = \lVert\mu_r - \mu_g\rVert^2 + \operatorname{tr}\big(\Sigma_r + \Sigma_g - 2(\Sigma_r^{1/2}\Sigma_g\Sigma_r^{1/2})^{1/2}\big).$$
#
# Lower is better; the mean term punishes wrong content, the covariance term missing variety (a collapsed
# generator has a small $\Sigma_g$). The course computes the **same formula in a different feature space**: the
# 1,152 penultimate features of chapter 01's Fashion-MNIST CNN (`evaluation`, a committed checkpoint). That needs
# no download and knows clothing, but the numbers are **not comparable to published FIDs**, only to each other,
# and only at the **same sample size** (the estimate is biased upwards for small samples). To know what "good"
# means here we compute the **floor**: the distance between two disjoint halves of the real test set. The same
# classifier also labels each sample, which gives **class coverage**: how many of the 10 classes get at least 2 %
# of the samples, and how evenly (entropy of the class shares over its maximum, 1 = perfectly even).

# %%
def evaluate(images, classifier, real_features):
    """Fréchet distance to ``real_features`` and class coverage of ``images`` (in [0, 1]), like evaluation.scores."""
    feats = evaluation.embed(classifier, images)                                  # (N, 1152)
    coverage = evaluation.class_coverage(classifier.classifier(feats).argmax(1))  # the classifier's head on them
    return {"frechet": evaluation.frechet_distance(feats, real_features), "classes_covered": coverage.covered,
            "entropy_ratio": coverage.entropy_ratio, "shares": coverage.shares}


classifier, message = evaluation.fashion_classifier()
print(message)
n = cfg.n_eval
real_a, real_b = ds.X_test[:n], ds.X_test[n:2 * n]  # two disjoint halves of the test set
real_features = evaluation.embed(classifier, real_a)
scores = {"real vs real (floor)": evaluate(real_b, classifier, real_features)}
z_eval = torch.randn(n, training.LATENT_DIM, generator=torch.Generator().manual_seed(1))
for label, model in [(f"DCGAN, live run ({cfg.n_live:,} images)", live)] + [(training.VARIANTS[k].title, m) for k, m in variants.items()]:
    fakes = views.to_unit(train.predict(model.G, z_eval.to(device)).cpu())
    scores[label] = evaluate(fakes, classifier, real_features)
print(f"{'samples (N = ' + str(n) + ')':<32} {'Fréchet':>8} {'classes':>8} {'evenness':>9}")
for label, s in scores.items():
    print(f"{label:<32} {s['frechet']:>8.2f} {s['classes_covered']:>8} {s['entropy_ratio']:>9.3f}")

# %%
results.record("gan_frechet", {"real_floor": scores["real vs real (floor)"]["frechet"]}
               | {k: scores[training.VARIANTS[k].title]["frechet"] for k in variants}, unit=f"Fréchet distance, N = {n}",
               note="course classifier features, not Inception")
results.record("gan_classes_covered", {"real": scores["real vs real (floor)"]["classes_covered"]}
               | {k: scores[training.VARIANTS[k].title]["classes_covered"] for k in variants}, unit="classes of 10")
best = min(variants, key=lambda k: scores[training.VARIANTS[k].title]["frechet"])
print(f"lowest Fréchet distance: {training.VARIANTS[best].title} "
      f"({scores[training.VARIANTS[best].title]['frechet']:.2f}, floor {scores['real vs real (floor)']['frechet']:.2f})")
print(f"training.pretrained_generator() returns the generator of '{training.BEST}'")

# %%
fig = views.class_shares_figure({label.replace(" (floor)", ""): s["shares"] for label, s in scores.items() if "live" not in label},
                                    ds.classes, min_share=0.02)
fig

# %% [markdown]
# Read the table from the floor up. Even two halves of the *real* test set are not at distance zero: that is
# the sampling noise of estimating a 1,152-dimensional mean and covariance from a few thousand images, and no
# generator can be expected to beat it. The short live run sits far above the fully trained variants and covers
# fewer classes, so the metric ranks training progress the way our eyes do. Every trained variant is still well
# above the floor. Their order is a statement about these runs (one seed, 3 epochs, and a WGAN-GP critic with one
# update per generator update instead of the paper's five), not about the methods in general: a large study
# (Lucic et al., 2018) found that with enough tuning and compute most GAN variants reach similar scores, and that
# the remedies mostly buy robustness to hyperparameters. The bars show that no variant collapsed, but none
# matches the real class shares either: each over-produces some classes and under-produces others, and the
# classes differ from variant to variant. A generator can miss *part* of a distribution without collapsing outright.
#
# Two cautions that apply to FID as much as to this version. The distance sees only what the feature network
# sees: Inception features know nothing about clothing, and our classifier knows nothing but clothing. And a
# Gaussian summary cannot tell "a few exact copies of training images" from genuine variety; memorization needs
# other checks (nearest training neighbours, for instance).
#
# ## 8. The latent space
#
# The generator maps every $z$ to an image, so walking a path in $z$ space walks through images. **Latent
# interpolation slider**: the large image is $G(z)$ at the slider's position on the path between two random
# vectors $z_a$ and $z_b$; the strip below shows the whole path. *new pair of z* draws two new endpoints.
# *spherical* walks along the great circle instead of the straight line: a straight line between two Gaussian
# vectors passes through shorter vectors than the generator was trained on (in 64 dimensions, samples have norm
# close to 8, the midpoint of a straight line about $8/\sqrt2$).

# %%
best_G = variants[best].G.eval()

# %% tags=["nbval-ignore-output"]
interpolation = views.interpolation_view(best_G, num_steps=9, seed=cfg.seed)
widgets.show(interpolation, views.interpolation_figure(best_G, num_pairs=4, num_steps=9, seed=cfg.seed))

# %% [markdown]
# The images change gradually: neighbouring $z$ give similar garments. When the two ends are alike (two tops) the
# whole path is plausible; between very different garments (trousers and a sneaker) the middle passes through a
# less convincing blend. Compare chapter 05, where decoding between two codes of
# a plain autoencoder gave blurry non-garments: the generator was trained on *every* $z$ the prior produces, not
# just on the codes of training images.
#
# **Training-progress viewer.** The checkpoint-making run kept a grid of samples of the same 36 latent vectors
# every 250 generator updates. Slide (or press play) through the training of the best variant:

# %%
frames, steps = training.frames_from_meta(metas[best])
steps_per_epoch = 60000 // training.FULL["batch_size"] if cfg.use_checkpoints else 1500 // training.SMOKE["batch_size"]

# %% tags=["nbval-ignore-output"]
viewer = views.progress_view(frames, steps, steps_per_epoch)
widgets.show(viewer, views.progress_figure(frames, steps, steps_per_epoch, num_snapshots=5))

# %% [markdown]
# The first snapshot is the untrained generator's output, nearly uniform grey. By the end of the first epoch
# there are rough garments; over the next epochs they sharpen, separate into classes and gain texture. Most latent
# vectors keep their garment from snapshot to snapshot once they have one: late in training the generator refines
# rather than reshuffles.
#
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | the game | $\min_G\max_D \mathbb E\log D(x) + \mathbb E\log(1-D(G(z)))$; optimum $D^* = p_\text{data}/(p_\text{data}+p_g)$, equilibrium $D = \tfrac12$, $V = -\log 4$ |
# | one step | D on real and **detached** fake, then G through a frozen D; a plain trainer with an optimizer dict suffices |
# | generator loss | saturating $\log(1-D)$ has gradient $D$ → vanishes when D wins; non-saturating $-\log D$ has $1-D$ |
# | failure modes | mode collapse (and mode hopping), oscillating losses, D overpowering G |
# | toy ring | count covered modes; G learning 10× faster than D collapsed, balanced rates covered (nearly) all eight |
# | DCGAN | transposed convs + BN + ReLU + tanh in G; strided convs + LeakyReLU in D, no BN on D's input; data in [−1, 1] |
# | WGAN-GP / spectral norm | keep D (nearly) 1-Lipschitz: gradient penalty on a critic, or each weight divided by its top singular value |
# | evaluation | Fréchet distance in a classifier's feature space, always at the same N and next to the real-vs-real floor; plus class coverage |
# | latent space | neighbouring z give neighbouring images; interpolate (spherically) to see it |
#
# The numbers this run produced:

# %%
floor = scores["real vs real (floor)"]
print(f"Fréchet distance at N = {n}: real vs real floor {floor['frechet']:.2f}; "
      + ", ".join(f"{training.VARIANTS[k].title} {scores[training.VARIANTS[k].title]['frechet']:.2f}" for k in variants))
print("classes covered: " + ", ".join(f"{training.VARIANTS[k].title} {scores[training.VARIANTS[k].title]['classes_covered']}"
                                      for k in variants) + f" (real data {floor['classes_covered']})")
print("toy ring, modes covered per seed: " + "; ".join(
    f"{label}: {[toy_modes[label, s].covered for s in cfg.toy_seeds]}" for label in toy_configs))
print("from-scratch training time of each checkpoint: " + ", ".join(
    f"{training.VARIANTS[k].title} {m['train_seconds']:.0f} s" for k, m in metas.items()))

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: the non-saturating loss.** Write `non_saturating_loss(fake_logits)`: the mean of
# $-\log D(G(z))$ over the batch, where $D(G(z)) = \sigma(\text{logit})$. It must stay finite for very negative
# logits (a discriminator that is sure), so do not take the log of a sigmoid that has rounded to zero.

# %% jupyter={"source_hidden": true} tags=["solution"]
def non_saturating_loss(fake_logits):
    return F.softplus(-fake_logits).mean()  # -log sigmoid(l) = log(1 + exp(-l)), stable for any l


# %%
checks.check_non_saturating_loss(non_saturating_loss)

# %% [markdown]
# **Exercise 2: rescue the collapsing toy GAN.** Keep the generator's learning rate of the collapsing configuration
# ($10^{-3}$) and find out how fast the discriminator must learn for the ring to be covered: train `train_toy` with a
# few values of `lr_d` (you may also try `d_steps`, the number of discriminator updates per generator update), count
# the modes of each, and pass a generator that covers the ring to the check (it counts the modes of 2,000 samples).

# %% jupyter={"source_hidden": true} tags=["solution"]
rescues = {}
for lr_d in (5e-4, 1e-3):
    model, snapshots, _ = train_toy({"lr_g": 1e-3, "lr_d": lr_d}, cfg.toy_steps, cfg.toy_batch_size, seed=cfg.seed)
    rescues[lr_d] = (model, evaluation.count_modes(snapshots.frames[-1], centers, max_dist=3 * ring_std))
    print(f"lr_d = {lr_d:g}: {rescues[lr_d][1]}")
rescued = max(rescues.values(), key=lambda r: (r[1].covered, r[1].quality))[0]

# %%
checks.check_toy_gan_coverage(rescued.G)

# %% [markdown]
# In the full run, half the generator's learning rate was not enough: the discriminator had to learn about as fast
# as the generator before the clump stopped hopping and spread out (the printout above says which values covered
# the ring). More discriminator
# updates per generator update (`d_steps`) act in the same direction but cost time. (In smoke mode the toy runs are
# too short for the check to pass.)
#
# **Exercise 3: spectral normalization in D.** Write `sn_discriminator(channels)`: the discriminator of section 5
# with every convolution and linear layer wrapped in `torch.nn.utils.parametrizations.spectral_norm`, and no batch
# norm. The check looks for the parametrization on each weight layer, the output shape, and the largest singular
# value of each normalized weight.

# %% jupyter={"source_hidden": true} tags=["solution"]
def sn_discriminator(channels=64):
    sn = nn.utils.parametrizations.spectral_norm
    c = channels
    return nn.Sequential(
        sn(nn.Conv2d(1, c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),      # (B, c, 14, 14)
        sn(nn.Conv2d(c, 2 * c, 4, stride=2, padding=1)), nn.LeakyReLU(0.2),  # (B, 2c, 7, 7)
        nn.Flatten(), sn(nn.Linear(2 * c * 49, 1)),                          # (B, 1)
    )


# %%
checks.check_spectral_discriminator(sn_discriminator(32))

# %% [markdown]
# This is `models.Discriminator(norm="spectral")`, the discriminator of the spectral-norm variant above.
#
# ## Further reading
#
# - I. Goodfellow et al. *Generative adversarial nets.* NeurIPS 2014, arXiv:1406.2661 (the minimax game, the non-saturating loss).
# - I. Goodfellow. *NIPS 2016 tutorial: generative adversarial networks.* arXiv:1701.00160.
# - A. Radford, L. Metz, S. Chintala. *Unsupervised representation learning with deep convolutional generative adversarial networks.* ICLR 2016, arXiv:1511.06434 (DCGAN).
# - L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. *Unrolled generative adversarial networks.* ICLR 2017, arXiv:1611.02163 (the ring of Gaussians, mode collapse).
# - M. Arjovsky, S. Chintala, L. Bottou. *Wasserstein GAN.* ICML 2017, arXiv:1701.07875.
# - I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin, A. Courville. *Improved training of Wasserstein GANs.* NeurIPS 2017, arXiv:1704.00028 (WGAN-GP).
# - T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida. *Spectral normalization for generative adversarial networks.* ICLR 2018, arXiv:1802.05957.
# - M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter. *GANs trained by a two time-scale update rule converge to a local Nash equilibrium.* NeurIPS 2017, arXiv:1706.08500 (FID).
# - T. Salimans et al. *Improved techniques for training GANs.* NeurIPS 2016, arXiv:1606.03498.
# - M. Lucic, K. Kurach, M. Michalski, S. Gelly, O. Bousquet. *Are GANs created equal? A large-scale study.* NeurIPS 2018, arXiv:1711.10337.
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
