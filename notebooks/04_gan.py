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
# - state the minimax game between a generator and a discriminator, derive its optimal discriminator and its
#   Jensen–Shannon form, and say what its equilibrium looks like;
# - write one GAN training step (discriminator on real and *detached* fake images, then generator) and plug it
#   into an ordinary trainer;
# - explain with a plot of gradients why generators are trained with the non-saturating loss;
# - make a 2-D toy GAN lose its modes, count the modes a generator covers, and fix it by balancing the two players;
# - build a DCGAN for Fashion-MNIST and say where batch norm, ReLU, tanh and LeakyReLU go;
# - explain why the Jensen–Shannon divergence starves a generator and the Wasserstein critic does not, and compare
#   Wasserstein (gradient penalty) and spectrally normalized variants with numbers;
# - evaluate generated images with a Fréchet distance and class coverage in a classifier's feature space, and
#   say how that differs from the published FID;
# - walk through a generator's latent space.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | toy GANs trained live (seconds each), a short live DCGAN run, three Fashion-MNIST GANs loaded from course checkpoints (each trained from scratch in a few minutes by `python scripts/make_checkpoints.py gan_dcgan gan_wgan_gp gan_sngan`; the loading cell prints how long), evaluation on 5,000 samples | <!-- runtime:full -->2.2 min (measured on 2 CPU cores, torch 2.14.1+cu130; every chapter: the README's chapter table)<!-- /runtime --> |
# | smoke (`COURSE_SMOKE=1`) | short toy runs (too short to cover the ring: to show section 4 live, run it in full mode); tiny Fashion-MNIST GANs trained on 1,500 images instead of loading checkpoints; 500 samples: checks that everything runs | <!-- runtime:smoke -->35 s (measured on 2 CPU cores, torch 2.14.1+cu130; CI allows 45 s)<!-- /runtime --> |
#
# Prerequisites: chapter 01 (convolutions, batch norm, the course's trainer `train.fit`), binary cross-entropy.
# The chapter reads best **after chapter 05** (autoencoders): it uses transposed convolutions and compares its
# latent-space walk with chapter 05's interpolation (the course index suggests the order 01 → 05 → 04 → 06).

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
import math
import time

import numpy as np
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import batches, data, plotting, results, runtime, train, widgets
from course_utils.gan import checks, evaluation, losses, models, theory, training, views
from course_utils.widgets import show_source

# %%
chapter_start = time.perf_counter()
cfg = runtime.Config(
    d_star_steps=(1500, 200),      # updates of the 1-D discriminator trained against a fixed generator (section 1)
    toy_steps=(1800, 300),         # training steps of each toy GAN
    toy_batch_size=(256, 256),
    toy_seeds=((0, 1, 2), (0,)),   # every toy configuration is trained once per seed
    wgan_toy_steps=(600, 36),      # generator updates of the toy WGAN-GP (5 critic updates each)
    n_live=(12800, 1500),          # Fashion-MNIST images of the short live DCGAN run (one epoch)
    batch_size=(64, 64),
    use_checkpoints=(True, False), # load the three course GANs (smoke mode trains tiny ones instead)
    n_eval=(5000, 500),            # generated samples per evaluation, and real test images per half
    floor_sizes=((500, 1000, 2000, 5000), (500,)),  # sample sizes of exercise 3
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
# classification with cross-entropy. $G$ minimizes $V$: it wants its fakes called real.
#
# **The optimal discriminator.** Call $p_g$ the density of the generator's samples $G(z)$. Then the second
# expectation is an expectation over $x \sim p_g$, and
#
# $$V(D, G) = \int \big[\,p_\text{data}(x)\log D(x) + p_g(x)\log(1 - D(x))\,\big]\,dx .$$
#
# For a fixed $G$, $D$ can choose its value at every $x$ separately. The function $y \mapsto a\log y + b\log(1-y)$
# has derivative $a/y - b/(1-y)$, which is zero at $y = a/(a+b)$, its maximum. So
#
# $$D^*(x) = \frac{p_\text{data}(x)}{p_\text{data}(x) + p_g(x)} .$$
#
# **The Jensen–Shannon form.** Two measures of how far apart two densities are. The **Kullback–Leibler divergence**
# $\mathrm{KL}(p\,\|\,q) = \mathbb E_{x\sim p}[\log(p(x)/q(x))]$ is $\ge 0$, zero only for $p = q$, and not
# symmetric. The **Jensen–Shannon divergence** (JSD) compares both with their average $m = (p+q)/2$:
# $\mathrm{JSD}(p\,\|\,q) = \tfrac12\mathrm{KL}(p\,\|\,m) + \tfrac12\mathrm{KL}(q\,\|\,m)$. It is symmetric, and it lies
# between $0$ (for $p = q$) and $\log 2$ (for distributions that never overlap); we measure it in nats (natural
# logarithms). Put $D^*$ into $V$ and write $p_\text{data} + p_g = 2m$:
#
# $$V(D^*, G) = \mathbb E_{p_\text{data}}\Big[\log\frac{p_\text{data}}{2m}\Big] + \mathbb E_{p_g}\Big[\log\frac{p_g}{2m}\Big]
#   = -\log 4 + \mathrm{KL}(p_\text{data}\,\|\,m) + \mathrm{KL}(p_g\,\|\,m) = -\log 4 + 2\,\mathrm{JSD}(p_\text{data}\,\|\,p_g).$$
#
# This holds for **any** $G$, as long as $D$ is the optimal $D^*$. Against a perfect discriminator the generator
# therefore minimizes the JSD between data and its samples; the minimum over $G$, $-\log 4$, is reached exactly when
# $p_g = p_\text{data}$. There $D^*(x) = \tfrac12$ **everywhere**: the discriminator can only guess. That is the
# game's equilibrium (Goodfellow et al., 2014).
#
# We can check $D^*$ by code. In one dimension both densities are known exactly: the "data" are a mixture of two
# Gaussians, the "generator" is frozen as a single wide Gaussian, and only $D$ (a small MLP) is trained, by binary
# cross-entropy on samples from each, as in a GAN step with $G$'s update switched off (`theory.fit_discriminator`).
# Then compare the trained $D(x)$ with $p_\text{data}/(p_\text{data}+p_g)$ computed from the formulas:

# %%
x_grid = np.linspace(-6, 6, 2401)
data_mixture, g_mixture = {"means": (-2.0, 1.5), "stds": (0.5, 0.5)}, {"means": (0.0,), "stds": (1.2,)}
p_data, p_g = theory.gaussian_mixture_pdf(x_grid, **data_mixture), theory.gaussian_mixture_pdf(x_grid, **g_mixture)
d_star = theory.optimal_discriminator(p_data, p_g)
D_1d = theory.fit_discriminator(lambda n, gen: theory.mixture_sample(n, **data_mixture, generator=gen),
                                lambda n, gen: theory.mixture_sample(n, **g_mixture, generator=gen),
                                num_steps=cfg.d_star_steps, seed=cfg.seed)
with torch.no_grad():
    d_trained = torch.sigmoid(D_1d(torch.tensor(x_grid, dtype=torch.float32)[:, None]))[:, 0].numpy()
fig = views.discriminator_figure(x_grid, p_data, p_g, d_star, d_trained)
fig

# %% [markdown]
# Where the data density dominates, $D^*$ is near 1; where only the generator puts mass, near 0; where the two
# densities cross, exactly ½. The trained discriminator follows $D^*$ closely where the samples land (the cell
# below prints its average gap, weighted by how much mass data and generator put at each $x$); far out in the
# tails, where few samples ever land, little pins it down and the two can part. The value it reaches is within a
# hair of the largest $V$ any discriminator can reach against this generator, $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}$:

# %%
mixture = (p_data + p_g) / 2                                   # where samples land, data and generator alike
gap = float((mixture * np.abs(d_trained - d_star)).sum() * (x_grid[1] - x_grid[0]))
v_star, v_trained = theory.value_at(d_star, p_data, p_g, x_grid), theory.value_at(d_trained, p_data, p_g, x_grid)
jsd = theory.jensen_shannon(p_data, p_g, x_grid)
print(f"V(D*, G) = {v_star:.4f}   -log 4 + 2 JSD = {-math.log(4) + 2 * jsd:.4f}   (JSD = {jsd:.4f} nats)")
print(f"V(trained D, G) = {v_trained:.4f}   average |D(x) - D*(x)| over where samples land: {gap:.3f}")
assert abs(v_star - (-math.log(4) + 2 * jsd)) < 1e-4  # the identity, on the grid
results.claim("The trained discriminator follows D* closely where the samples land", gap < 0.03,
              detail=f"mass-weighted average gap {gap:.3f}")
_ = results.claim("The value it reaches is within a hair of the largest V any discriminator can reach against this generator",
              0 <= v_star - v_trained < 0.01, detail=f"V(trained) {v_trained:.4f}, V(D*) {v_star:.4f}")

# %% [markdown]
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
# The same function lives in `course_utils.gan` as `losses.discriminator_loss` (`theory.fit_discriminator` above
# uses it too), and from here on we use that one.
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
ax.set(xlabel="D(G(z))", ylabel="|∂ loss / ∂ logit|", title="Gradient reaching the generator", ylim=(0, 1.35))
ax.axvspan(0, 0.1, color="0.9", label="early training: D rejects the fakes")
ax.legend(fontsize=8, loc="upper center")
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
class Spy(torch.optim.SGD):
    """SGD that notes, at each step, whether any generator weight already holds a gradient."""

    def __init__(self, params, watched, **kwargs):
        super().__init__(params, **kwargs)
        self.watched, self.saw_grad = list(watched), []

    def step(self, closure=None):
        self.saw_grad.append(any(p.grad is not None for p in self.watched))
        return super().step(closure)


# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
toy = models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True))
before = {name: p.detach().clone() for name, p in toy.named_parameters()}
optimizer = {"G": torch.optim.SGD(toy.G.parameters(), lr=0.1), "D": Spy(toy.D.parameters(), toy.G.parameters(), lr=0.1)}
logs = my_gan_step(toy, (evaluation.ring_of_gaussians(64),), optimizer)
moved = {part: all(not torch.equal(p, before[n]) for n, p in toy.named_parameters() if n.startswith(part)) for part in "GD"}
print("G had a gradient when D stepped:", optimizer["D"].saw_grad)
print("every weight of G moved:", moved["G"], "| every weight of D moved:", moved["D"])
print("logs:", sorted(logs))

# %% [markdown]
# Remove the `.detach()` and the first answer turns `True`: $D$'s backward pass then runs on through the fakes into
# $G$ and fills $G$'s gradients. In *this* step that only wastes a backward pass, because `optimizer["G"].zero_grad`
# clears them before $G$'s own backward. It becomes a real bug as soon as gradients accumulate (a step that zeroes
# once per several batches, or computes both losses before one `zero_grad`): then $G$'s update mixes in $D$'s
# gradient, a push *towards* being caught. The detach makes the step correct whatever the bookkeeping.
#
# `training.gan_step` is this step plus one option used below, the number of $D$ updates per $G$ update (`d_steps`),
# and it returns $D$'s average output on real and fake data too, so you can watch the game. The next cell checks
# that from the same start it gives the same weights as `my_gan_step`, bit for bit:

# %%
twins = [models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True)) for _ in range(2)]
twins[1].load_state_dict(twins[0].state_dict())
batch = (evaluation.ring_of_gaussians(64, generator=torch.Generator().manual_seed(1)),)
for twin, step in zip(twins, [my_gan_step, training.gan_step()]):
    torch.manual_seed(2)  # same random draws
    step(twin, batch, {"G": torch.optim.SGD(twin.G.parameters(), lr=0.1), "D": torch.optim.SGD(twin.D.parameters(), lr=0.1)})
same = all(torch.equal(a, b) for a, b in zip(twins[0].state_dict().values(), twins[1].state_dict().values()))
print("training.gan_step and my_gan_step end with identical weights:", same)
assert same

# %% [markdown]
# The Wasserstein critic of section 6 has a step of its own, `training.wgan_gp_step`, numbered the same way:

# %%
show_source(training.gan_step)

# %% [markdown]
# ## 4. A GAN you can watch: eight Gaussians on a ring
#
# Images are a poor place to *see* a GAN fail. The classic test bed (Metz et al., 2017) is a mixture of eight
# Gaussians on a circle: a 2-D distribution with eight well-separated **modes**. A generator that covers all of
# them has learned the distribution. The textbook failure, **mode collapse**, is a generator that puts all its
# samples on one or two of them. Because the data are points, we can count: each generated point within three
# standard deviations of a centre is assigned to it, and a mode counts as covered when it holds at least 2 % of the
# samples (`evaluation.count_modes`).

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
# output for 1,000 fixed $z$ after the first step and every sixth of the run, and a `BatchLog` keeps every step's losses.

# %%
def train_toy(settings, num_steps, batch_size, seed, callbacks=()):
    """A toy GAN trained on the ring; settings: lr_g, lr_d, optionally loss ('wgan_gp': a critic), d_steps, betas."""
    torch.manual_seed(seed)
    model = models.GAN(models.ToyGenerator(latent_dim=2), models.mlp(2, 1, leaky=True))
    d_steps, loss, betas = settings.get("d_steps", 1), settings.get("loss", "non_saturating"), settings.get("betas", (0.5, 0.999))
    X = evaluation.ring_of_gaussians(num_steps * batch_size * d_steps, std=0.05, generator=torch.Generator().manual_seed(seed))
    loader = batches.Batches(X, batch_size=batch_size * d_steps, shuffle=True, drop_last=True, seed=seed)
    optimizer = {"G": torch.optim.Adam(model.G.parameters(), lr=settings["lr_g"], betas=betas),
                 "D": torch.optim.Adam(model.D.parameters(), lr=settings["lr_d"], betas=betas)}
    snapshots = training.SampleGrids(torch.randn(1000, 2, generator=torch.Generator().manual_seed(99)), every=num_steps // 6)
    log = training.BatchLog()
    step = training.wgan_gp_step(d_steps=d_steps) if loss == "wgan_gp" else training.gan_step(loss, d_steps)
    train.fit(model, loader, num_epochs=1, optimizer=optimizer, monitor=None, callbacks=[snapshots, log, *callbacks],
              step=step, live_plot=False, verbose=False)
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
# Grey: the data. Red: the generator's samples for the same 1,000 $z$ at seven moments of training (seed 0),
# evenly spaced.
#
# The fast generator never settles. At every snapshot its samples sit in one narrow clump (a fraction of the
# ring's spread) that covers two modes at most, usually none, and from snapshot to snapshot the clump *jumps* across
# the ring. This is mode collapse in its non-convergent form, often called **mode hopping**: the variety is gone, as
# in the textbook picture, but the clump does not stay on a mode. The mechanism is a chase. $G$ moves its samples
# to wherever $D$ currently says "real"; a slow $D$ then learns that this spot is fake, and $G$, faster, abandons it
# for the next one. Nothing in the loss rewards *spreading out*, because $G$ is only ever judged on the samples it
# makes now. With balanced rates $D$ keeps up, punishes any spot that gets too many samples, and the generator
# spreads over the ring. The measurements, over every snapshot after the first and every seed:

# %%
data_spread = (real_points - real_points.mean(0)).norm(dim=1).mean().item()
fast = "G 10x faster than D"
hops = {}
for seed in cfg.toy_seeds:
    frames = toy_runs[fast, seed][0].frames[1:]
    centres_of_clump = torch.stack([f.mean(0) for f in frames])
    hops[seed] = {"max modes": max(evaluation.count_modes(f, centers, 3 * ring_std).covered for f in frames),
                  "max spread": max((f - f.mean(0)).norm(dim=1).mean().item() for f in frames) / data_spread,
                  "mean jump": (centres_of_clump[1:] - centres_of_clump[:-1]).norm(dim=1).mean().item()}
    print(f"{fast}, seed {seed}: at most {hops[seed]['max modes']} mode(s) covered; clump spread at most "
          f"{hops[seed]['max spread']:.0%} of the data's; mean jump of its centre {hops[seed]['mean jump']:.2f} (ring radius 2)")
results.claim("At every snapshot its samples sit in one narrow clump (a fraction of the ring's spread) that covers two modes at most",
              all(h["max modes"] <= 2 and h["max spread"] < 0.5 for h in hops.values()), detail=str(hops))
_ = results.claim("from snapshot to snapshot the clump jumps across the ring", all(h["mean jump"] > 1.0 for h in hops.values()),
              detail=", ".join(f"seed {s}: {h['mean jump']:.2f}" for s, h in hops.items()))

# %%
for label in toy_configs:
    covered = [toy_modes[label, s].covered for s in cfg.toy_seeds]
    print(f"{label:<20} modes covered at the end, per seed: {covered}   (of 8)")
_ = results.claim("With balanced rates D keeps up, punishes any spot that gets too many samples, and the generator spreads over the ring",
              all(toy_modes["balanced", s].covered >= 7 for s in cfg.toy_seeds) and all(toy_modes[fast, s].covered <= 2 for s in cfg.toy_seeds),
              detail=str({k: v.covered for k, v in toy_modes.items()}))

# %% [markdown]
# The losses tell a second story. GAN losses are not a progress bar: each network's loss depends on the
# other, so they **oscillate** instead of falling. Below, every step's losses (moving average over 25 steps),
# with dashed lines at the values they take when $D$ answers ½ everywhere: `d_loss` $= \log 4 \approx 1.39$ and
# `g_loss` $= \log 2 \approx 0.69$.

# %%
fig = views.training_curves_figure({f"{label} (seed {cfg.toy_seeds[0]})": toy_runs[label, cfg.toy_seeds[0]][1]
                                    for label in toy_configs},
                                   references={"d_loss": (math.log(4), "log 4"), "g_loss": (math.log(2), "log 2")})
fig

# %%
tails = {}
for label in toy_configs:
    logs = toy_runs[label, cfg.toy_seeds[0]][1]
    tails[label] = {k: float(np.mean(v[len(v) // 2:])) for k, v in logs.items()}  # means over the second half
    print(f"{label:<20} second half: mean d_loss {tails[label]['d_loss']:.3f}, mean g_loss {tails[label]['g_loss']:.3f}, "
          f"mean D(real) {tails[label]['d_real']:.2f}, mean D(fake) {tails[label]['d_fake']:.2f}")
off = {label: abs(t["d_loss"] - math.log(4)) + abs(t["g_loss"] - math.log(2)) for label, t in tails.items()}
results.claim("The collapsed run sits almost exactly on them, with D answering about ½ for real and fake alike",
              off[fast] < 0.05 and all(abs(tails[fast][k] - 0.5) < 0.05 for k in ("d_real", "d_fake")), detail=f"{tails[fast]}")
_ = results.claim("The balanced run sits further from them", off["balanced"] > off[fast],
              detail=", ".join(f"{k}: {v:.3f} away" for k, v in off.items()))

# %% [markdown]
# Compare the two rows with those values. The *collapsed* run sits almost exactly on them, with $D$ answering
# about ½ for real and fake alike: not because the generator has matched the data, but because the slow
# discriminator never catches the clump that keeps jumping away. The balanced run sits further from them, and its
# curves wander as the two networks take turns gaining the upper hand. So "the losses are at their equilibrium
# values" does not mean "the GAN has converged": look at samples, and measure them (section 7).

# %% [markdown]
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
# - weights drawn from a normal distribution with mean 0 and **standard deviation 0.02**; Adam with learning rate
#   $2\cdot10^{-4}$ and $\beta_1 = 0.5$.
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
print(f"{cfg.n_live // cfg.batch_size} steps in {time.perf_counter() - start:.0f} s")

# %%
fig = views.progress_figure(live_grids.frames, live_grids.steps, steps_per_epoch=cfg.n_live // cfg.batch_size)
fig

# %% [markdown]
# Compare the last panel with the checkpoints' samples in section 6: one epoch over a subset is far from done
# (section 7 measures how far). A convincing generator needs a few epochs over all 60,000 images, several minutes per
# model on two CPU cores, too long to repeat in a notebook. Section 6 loads three such GANs.
#
# ## 6. Failure modes and three remedies
#
# Section 4 showed two failures: a generator that loses the modes and hops between spots (**mode collapse** in its
# non-convergent form), and **oscillating losses** that say little about progress. Section 2 explained why a
# third one hurts: a **discriminator that overpowers** the generator leaves it without a useful gradient. Three
# widely used remedies follow, each with its code.
#
# **Remedy 1: balance the updates.** The ratio of $D$ to $G$ updates (or of their learning rates) decides who keeps
# up with whom; section 4 turned the chase into coverage by raising $D$'s learning rate. Giving the two players
# their own learning rates has a name and a theory: the **two time-scale update rule** (TTUR, Heusel et al., 2017)
# proves that with suitably chosen separate rates GAN training converges to a local equilibrium, and the same paper
# introduced the FID of section 7. `gan_step(d_steps=k)` is the other knob: $k$ updates of $D$ per update of $G$
# (the real batch is split into $k$ chunks, each met by fresh fakes).
#
# **Why the Jensen–Shannon divergence is a poor guide.** Section 1 showed that against the optimal $D$ the
# generator minimizes the JSD. Real images occupy a thin subset of pixel space, and early on the generator's
# samples occupy another; when the two do not overlap, the JSD is $\log 2$ *whatever the distance between them*
# (Arjovsky & Bottou, 2017), so it gives no direction to move in. The **Wasserstein-1** or **earth mover's**
# distance does: the least average distance that probability mass must travel to turn one distribution into the
# other. Here is the classic example: the data uniform on $[0, 1]$, the generator the same distribution shifted
# by $\theta$ (both divergences computed on a fine grid with `theory`):

# %%
x_line = np.linspace(-1.0, 12.0, 13001)
def uniform(start):  # the density of U[start, start + 1) on the grid
    return ((x_line >= start) & (x_line < start + 1)).astype(float)


shifts = np.linspace(0, 10, 41)
jsd_curve = np.array([theory.jensen_shannon(uniform(0), uniform(t), x_line) for t in shifts])
w1_curve = np.array([theory.wasserstein_1d(uniform(0), uniform(t), x_line) for t in shifts])
fig = views.divergence_figure(shifts, jsd_curve, w1_curve)
fig

# %%
apart = shifts >= 1  # supports no longer overlap
print(f"shift 0.5: JSD {jsd_curve[shifts == 0.5][0]:.3f}, W1 {w1_curve[shifts == 0.5][0]:.3f}; "
      f"shifts 1 to 10: JSD between {jsd_curve[apart].min():.4f} and {jsd_curve[apart].max():.4f} (log 2 = {math.log(2):.4f})")
results.claim("when the two do not overlap, the JSD is log 2 whatever the distance between them",
              bool(np.abs(jsd_curve[apart] - math.log(2)).max() < 1e-3), detail=f"JSD for shifts >= 1: {jsd_curve[apart].min():.4f}..{jsd_curve[apart].max():.4f}")
_ = results.claim("the Wasserstein distance grows with the shift", bool(np.abs(w1_curve - shifts).max() < 0.01),
              detail=f"largest |W1 - shift| {np.abs(w1_curve - shifts).max():.4f}")

# %% [markdown]
# The JSD rises until the supports separate and then stays flat at $\log 2$: a generator ten units away gets the
# same score, and the same zero gradient, as one a single unit away. The Wasserstein distance equals the shift and
# keeps pointing the way home.
#
# **Remedy 2: WGAN** (Arjovsky et al., 2017). A function $f$ is **$K$-Lipschitz** if $|f(x) - f(y)| \le K\lVert x -
# y\rVert$ for all $x, y$: it never changes faster than $K$ times the distance travelled (for a differentiable $f$,
# its gradient norm is at most $K$ everywhere). The Kantorovich–Rubinstein duality writes the Wasserstein-1
# distance as a maximum over 1-Lipschitz functions,
# $W_1(p_\text{data}, p_g) = \max_{\lVert f\rVert_L \le 1} \mathbb E[f(x)] - \mathbb E[f(G(z))]$. So replace the
# classifier by a **critic** $f$ with an unbounded score, train it to maximize that difference, and let $G$ minimize
# $-\mathbb E[f(G(z))]$. The catch is keeping $f$ 1-Lipschitz. The original paper **clips** every weight to
# $[-c, c]$ (crude: it limits capacity); **WGAN-GP** (Gulrajani et al., 2017) adds a **gradient penalty**
# $\lambda\,\mathbb E[(\lVert\nabla_{\hat x} f(\hat x)\rVert - 1)^2]$ at random points $\hat x$ between real and
# fake samples. The penalty is per sample, so the critic uses no batch norm. Its code, where `create_graph=True`
# keeps the gradient itself differentiable so that the critic's optimizer can reduce the penalty:

# %%
show_source(losses.gradient_penalty)

# %% [markdown]
# The selling point of a Wasserstein critic is that its value means something: $\mathbb E f(x) - \mathbb E f(G(z))$
# *estimates* the distance to the data, so it should fall as the samples improve. On the toy ring we can test that,
# because there the earth mover's distance between 500 generated and 500 real points can be computed exactly, by
# an optimal one-to-one matching (`evaluation.earth_movers_distance`). A toy WGAN-GP with five critic updates per
# generator update (the paper's setting; `training.CriticEstimate` measures the critic on fixed points as it trains):

# %%
wgan_settings = {"loss": "wgan_gp", "lr_g": 3e-4, "lr_d": 1e-3, "d_steps": 5, "betas": (0.5, 0.9)}
critic_trace = training.CriticEstimate(real_points[:500], torch.randn(500, 2, generator=torch.Generator().manual_seed(99)),
                                       every=max(1, cfg.wgan_toy_steps // 12))
start = time.perf_counter()
wgan_toy, _, _ = train_toy(wgan_settings, cfg.wgan_toy_steps, cfg.toy_batch_size, cfg.seed, callbacks=[critic_trace])
exact_w1 = np.array([evaluation.earth_movers_distance(f, real_points[:500]) for f in critic_trace.frames])
w1_floor = evaluation.earth_movers_distance(real_points[500:1000], real_points[:500])  # two samples of real points
print(f"toy WGAN-GP: {cfg.wgan_toy_steps} generator updates in {time.perf_counter() - start:.0f} s; at the end "
      f"{evaluation.count_modes(critic_trace.frames[-1], centers, 3 * ring_std)}")

# %%
fig = views.critic_tracking_figure(critic_trace.steps, critic_trace.estimates, exact_w1, floor=w1_floor)
fig

# %%
estimates, late = np.array(critic_trace.estimates), np.array(critic_trace.steps) >= cfg.wgan_toy_steps / 2
print("update: critic estimate / exact distance\n" + "  ".join(f"{s}: {e:.2f}/{w:.2f}" for s, e, w in
                                                                zip(critic_trace.steps, estimates, exact_w1)))
results.claim("The exact distance falls as the samples approach the ring", bool(exact_w1[-1] < exact_w1[0] / 3),
              detail=f"{exact_w1[0]:.2f} -> {exact_w1[-1]:.2f}")
caught_up = np.array(critic_trace.steps) >= cfg.wgan_toy_steps / 4
corr = float(np.corrcoef(estimates[caught_up], exact_w1[caught_up])[0, 1])
print(f"correlation from the first quarter on: {corr:.2f}; matching distance between two real samples (floor): {w1_floor:.2f}")
results.claim("from the first quarter of training on, the two move together", corr > 0.8, detail=f"correlation {corr:.2f}")
_ = results.claim("in the second half the estimate stays below the exact distance at every snapshot",
                  bool((estimates < exact_w1)[late].all()), detail=f"largest estimate - distance {(estimates - exact_w1)[late].max():+.2f}")

# %% [markdown]
# The exact distance falls as the samples approach the ring, and once the critic has caught up with the generator
# its estimate falls with it: from the first quarter of training on, the two move together, and in the second half
# the estimate stays below the exact distance at every snapshot. Two things make it lower. A critic that is exactly
# 1-Lipschitz can only underestimate: $W_1$ is the maximum over *all* such functions, and a trained network finds
# less. And the matching distance between two finite samples is itself inflated by sampling noise, which a smooth
# critic cannot exploit: the dotted floor is the matching distance between two samples of 500 *real* points, what
# such a pair shows with no generator error at all. Early on, while the critic is still catching up, its number
# means little. Note the rates: the critic learns faster than the generator (the two-time-scale idea again) and
# gets five updates per generator update.
#
# Compare the GAN of section 4, whose discriminator loss sat on $\log 4$, the value of a perfect match, while its
# generator hopped from spot to spot. A Wasserstein critic's value is a progress signal; a GAN discriminator's loss is not.
#
# **Remedy 3: spectral normalization** (Miyato et al., 2018). A linear map $x \mapsto Wx$ stretches no vector by more
# than the largest singular value $\sigma(W)$ of $W$, so it is $\sigma(W)$-Lipschitz, and a composition of layers is
# at most the product of the layers' constants (LeakyReLU is 1-Lipschitz). Spectral normalization divides each
# layer's weight by an estimate of $\sigma(W)$ (one step of **power iteration** per forward pass: multiply a vector by
# $W$ and by $W^\top$, normalize, repeat; the vector turns towards the direction $W$ stretches most). It keeps the
# ordinary GAN loss, costs almost nothing, and replaces batch norm in $D$. For a linear layer the result is exactly
# 1-Lipschitz:

# %%
torch.manual_seed(0)
layer = nn.Linear(50, 20)
print(f"largest singular value of a random 50 -> 20 layer: {torch.linalg.matrix_norm(layer.weight, ord=2):.3f}")
sn_layer = nn.utils.parametrizations.spectral_norm(nn.Linear(50, 20))
for _ in range(20):  # each forward pass in training mode refines the power-iteration estimate
    sn_layer(torch.randn(8, 50))
sigma = torch.linalg.matrix_norm(sn_layer.weight, ord=2).item()
print(f"after spectral_norm: {sigma:.3f}")
_ = results.claim("For a linear layer the result is exactly 1-Lipschitz", abs(sigma - 1) < 1e-3, detail=f"largest singular value {sigma:.4f}")

# %% [markdown]
# A convolution is different. PyTorch normalizes the kernel reshaped into a matrix of shape (out channels, in
# channels × k × k), and that matrix's norm is not the convolution's own Lipschitz constant: each input pixel
# feeds several overlapping output positions. `theory.conv_lipschitz` measures the convolution's true largest
# stretch factor by power iteration on the convolution and its transpose, for the two convolutions of a
# spectrally normalized discriminator:

# %%
sn_D = models.Discriminator(channels=64, norm="spectral")
for _ in range(20):
    sn_D(torch.randn(8, 1, 28, 28))  # refine the power iteration
convs = [(m, shape) for m, shape in zip([m for m in sn_D.modules() if isinstance(m, nn.Conv2d)], [(1, 28, 28), (64, 14, 14)])]
conv_norms = [theory.conv_lipschitz(m, shape) for m, shape in convs]
for (m, shape), norm in zip(convs, conv_norms):
    print(f"conv on {shape}: reshaped-kernel norm {torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2):.3f}, "
          f"true Lipschitz constant {norm:.3f}")
_ = results.claim("that matrix's norm is not the convolution's own Lipschitz constant", all(abs(v - 1) > 0.05 for v in conv_norms),
              detail=", ".join(f"{v:.3f}" for v in conv_norms))

# %% [markdown]
# So a spectrally normalized discriminator is only *nearly* 1-Lipschitz: its constant is kept bounded and of
# order one, which is what stabilizes training, but it is not exactly 1 (Gouk et al., 2021, compute a
# convolution's own constant by power iteration, as `theory.conv_lipschitz` does; Sedghi et al., 2019, all its
# singular values).
#
# **Three Fashion-MNIST GANs.** They share the generator and the training length (3 epochs, one $D$ update per $G$
# update, batch 64) and differ in the discriminator: DCGAN (batch norm, non-saturating loss), **WGAN-GP** (critic
# without normalization, $\lambda = 10$, Adam with $\beta = (0, 0.9)$ and learning rate $10^{-4}$ as in the paper;
# the paper gives the critic five updates per $G$ update, we give it one to keep the same training budget) and
# **spectral norm** (every $D$ layer spectrally normalized, no batch norm, non-saturating loss).
#
# Training each takes several minutes on two CPU cores, so the course ships them as checkpoints, made by
# `python scripts/make_checkpoints.py gan_dcgan gan_wgan_gp gan_sngan` (seeded; each file under 5 MB, with its
# SHA-256 checksum beside it, loaded with `weights_only=True`). The cell below loads them, or trains when there is no
# checkpoint (and, in smoke mode, trains tiny versions), and says which it did and how long training took.

# %%
variants, metas = {}, {}
for name, variant in training.VARIANTS.items():
    model, message, meta = training.load_variant(name, use_checkpoint=cfg.use_checkpoints, device=device)
    variants[name], metas[name] = model, meta
    print(f"{variant.title:<14} {message}")

# %%
sample_z = torch.randn(16, training.LATENT_DIM, generator=torch.Generator().manual_seed(cfg.seed))
with torch.no_grad():
    grids = {training.VARIANTS[n].title: views.to_unit(m.G(sample_z.to(device))).cpu() for n, m in variants.items()}
fig = views.sample_grids_figure(grids, nrow=4, size=3.2)
fig

# %% [markdown]
# The same 16 latent vectors through each generator, large enough to judge single samples. Which is best? Looking
# is not measuring; the next section puts numbers on it.
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
# generator has a small $\Sigma_g$). The matrix square roots are computed from symmetric eigendecompositions:

# %%
show_source(evaluation.gaussian_frechet)

# %% [markdown]
# The course computes the **same formula in a different feature space**: the 1,152 penultimate features of chapter
# 01's Fashion-MNIST CNN (`evaluation`, a committed checkpoint). That needs no download and knows clothing, but the
# numbers are **not comparable to published FIDs**, only to each other, and only at the **same sample size** (the
# estimate is biased upwards for small samples; exercise 3 measures by how much). To know what "good" means here we
# compute the **floor**: the distance between two disjoint halves of the real test set. The same classifier also
# labels each sample, which gives **class coverage**: how many of the 10 classes get at least 2 % of the samples,
# and how evenly (entropy of the class shares over its maximum, 1 = perfectly even).

# %%
def evaluate(images, classifier, real_features):
    """Fréchet distance to ``real_features`` and class coverage of ``images`` (in [0, 1]), like evaluation.scores."""
    feats = evaluation.embed(classifier, images)                                  # (N, 1152)
    coverage = evaluation.class_coverage(classifier.classifier(feats).argmax(1))  # the classifier's head on them
    return {"frechet": evaluation.frechet_distance(feats, real_features), "classes_covered": coverage.covered,
            "entropy_ratio": coverage.entropy_ratio, "shares": coverage.shares}


# %%
classifier, message = evaluation.fashion_classifier()
print(message)
n = cfg.n_eval
real_a, real_b = ds.X_test[:n], ds.X_test[n:2 * n]  # two disjoint halves of the test set
real_features = evaluation.embed(classifier, real_a)
scores = {"real vs real (floor)": evaluate(real_b, classifier, real_features)}
z_eval = torch.randn(n, training.LATENT_DIM, generator=torch.Generator().manual_seed(1))
live_label = f"DCGAN, live run ({cfg.n_live:,} images)"
for label, model in [(live_label, live)] + [(training.VARIANTS[k].title, m) for k, m in variants.items()]:
    scores[label] = evaluate(views.to_unit(train.predict(model.G, z_eval.to(device)).cpu()), classifier, real_features)

# %%
print(f"{'samples (N = ' + str(n) + ')':<32} {'Fréchet':>8} {'classes':>8} {'evenness':>9}")
for label, s in scores.items():
    print(f"{label:<32} {s['frechet']:>8.2f} {s['classes_covered']:>8} {s['entropy_ratio']:>9.3f}")
best = min(variants, key=lambda k: scores[training.VARIANTS[k].title]["frechet"])
print(f"lowest Fréchet distance: {training.VARIANTS[best].title}; "
      f"training.pretrained_generator() returns the generator of '{training.BEST}'")

# %%
fig = views.class_shares_figure({label.replace(" (floor)", ""): s["shares"] for label, s in scores.items() if "live" not in label},
                                ds.classes, min_share=0.02)
fig

# %% [markdown]
# Read the table from the floor up. Even two halves of the *real* test set are not at distance zero: that is
# the sampling noise of estimating a 1,152-dimensional mean and covariance from a few thousand images, and no
# generator can be expected to beat it. The short live run sits far above the fully trained variants and covers
# fewer classes, so the metric ranks training progress the way our eyes do. Every trained variant is still well
# above the floor (more than twice it).

# %%
trained = {training.VARIANTS[k].title: scores[training.VARIANTS[k].title] for k in variants}
floor = scores["real vs real (floor)"]
results.claim("The short live run sits far above the fully trained variants and covers fewer classes",
              all(scores[live_label]["frechet"] > 2 * s["frechet"] and scores[live_label]["classes_covered"] < s["classes_covered"]
                  for s in trained.values()), detail=f"live {scores[live_label]['frechet']:.2f}, {scores[live_label]['classes_covered']} classes")
_ = results.claim("Every trained variant is still well above the floor (more than twice it)",
              all(s["frechet"] > 2 * floor["frechet"] for s in trained.values()),
              detail=", ".join(f"{k} {s['frechet']:.2f}" for k, s in trained.items()) + f"; floor {floor['frechet']:.2f}")

# %% [markdown]
# Their order is a statement about these runs (one seed, 3 epochs, and a WGAN-GP critic with one update per
# generator update instead of the paper's five), not about the methods in general: a large study (Lucic et al.,
# 2018) found that with enough tuning and compute most GAN variants reach similar scores, and that the remedies
# mostly buy robustness to hyperparameters.
#
# Now the bars. No variant collapsed onto a few classes, but none matches the real class shares either: each
# over-produces some classes and under-produces others, and the classes differ from variant to variant. And one
# variant nearly **dropped a mode**: WGAN-GP gives fewer than 2 % of its samples to sneakers (the annotated bar),
# which is why the table counts 9 classes for it. That is a *partial* mode drop: not the collapse of section 4, but
# the same failure in miniature, one part of the distribution the generator learned to avoid.

# %%
real_shares = np.asarray(floor["shares"])
wgan_shares = np.asarray(scores[training.VARIANTS["gan_wgan_gp"].title]["shares"])
for title, s in trained.items():
    diff = np.asarray(s["shares"]) - real_shares
    print(f"{title:<14} most over-produced: {ds.classes[diff.argmax()]} ({diff.max():+.1%}), "
          f"most under-produced: {ds.classes[diff.argmin()]} ({diff.min():+.1%})")
results.claim("none matches the real class shares either: each over-produces some classes and under-produces others",
              all((np.asarray(s["shares"]) - real_shares).max() > 0.01 and (np.asarray(s["shares"]) - real_shares).min() < -0.01
                  for s in trained.values()), detail="every variant is off by more than 1 point in both directions")
_ = results.claim("WGAN-GP gives fewer than 2 % of its samples to sneakers", bool(wgan_shares[list(ds.classes).index("Sneaker")] < 0.02),
              detail=f"Sneaker share {wgan_shares[list(ds.classes).index('Sneaker')]:.2%}")

# %% [markdown]
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
# vectors passes through shorter vectors than the generator was trained on. In 64 dimensions samples have norm
# close to $\sqrt{64} = 8$ and the midpoint of a straight line between two of them about $8/\sqrt2$, because two
# random directions are nearly perpendicular:

# %%
z_pairs = torch.randn(2, 1000, training.LATENT_DIM, generator=torch.Generator().manual_seed(3))
midpoints = {"linear": (z_pairs[0] + z_pairs[1]) / 2,
             "spherical": torch.stack([views.interpolate(a, b, 3, spherical=True)[1] for a, b in zip(*z_pairs)])}
norms = {"endpoints": z_pairs.norm(dim=-1).mean().item()} | {k: v.norm(dim=-1).mean().item() for k, v in midpoints.items()}
print("mean norm: " + ", ".join(f"{k} {v:.2f}" for k, v in norms.items()) + f" (8/√2 = {8 / math.sqrt(2):.2f})")
_ = results.claim("the midpoint of a straight line between two of them about 8/√2", abs(norms["linear"] - 8 / math.sqrt(2)) < 0.3,
              detail=f"{norms['linear']:.2f}")

# %%
best_G = variants[best].G.eval()

# %% tags=["nbval-ignore-output"]
interpolation = views.interpolation_view(best_G, num_steps=9, seed=cfg.seed)
widgets.show(interpolation, views.interpolation_figure(best_G, num_pairs=3, num_steps=9, seed=cfg.seed))

# %% [markdown]
# Each pair of rows walks between the same two endpoints, first along the straight line, then along the great
# circle. The images change gradually: neighbouring $z$ give similar garments, and each step along a path changes
# the image by less than half the jump from one end to the other. Look at the middle of each row, where the path is
# furthest from both ends: that is where a blend of two garments, rather than either, has to appear. Compare chapter 05, where decoding between two codes of a plain autoencoder gave blurry
# non-garments: the generator was trained on *every* $z$ the prior produces, not just on the codes of training images.

# %%
path_z = torch.stack([views.interpolate(a, b, 9) for a, b in zip(*z_pairs[:, :50])])  # 50 straight paths
with torch.no_grad():
    path_images = views.to_unit(best_G(path_z.flatten(0, 1).to(device))).cpu().view(50, 9, -1)
step_change = (path_images[:, 1:] - path_images[:, :-1]).norm(dim=-1).mean().item()
end_change = (path_images[:, -1] - path_images[:, 0]).norm(dim=-1).mean().item()
print(f"mean pixel distance: neighbouring images on a path {step_change:.2f}, the two ends {end_change:.2f}")
_ = results.claim("each step along a path changes the image by less than half the jump from one end to the other",
              step_change < end_change / 2, detail=f"{step_change:.2f} per step vs {end_change:.2f} end to end")

# %% [markdown]
# **Training-progress viewer.** The checkpoint-making run kept a grid of samples of the same 36 latent vectors
# every 250 generator updates. Slide (or press play) through the training of the best variant (the first
# snapshot, the untrained generator's uniform grey, is left out of the static figure):

# %%
frames, steps = training.frames_from_meta(metas[best])
steps_per_epoch = 60000 // training.FULL["batch_size"] if cfg.use_checkpoints else 1500 // training.SMOKE["batch_size"]

# %% tags=["nbval-ignore-output"]
viewer = views.progress_view(frames, steps, steps_per_epoch)
widgets.show(viewer, views.progress_figure(frames[1:], steps[1:], steps_per_epoch, num_snapshots=5))

# %% [markdown]
# By the end of the first epoch there are rough garments; over the next epochs they sharpen, separate into classes
# and gain texture. Does each latent vector keep its garment from the first epoch on, so that later training only
# refines it? The classifier of section 7 can check, and in this run the answer is no: fewer than half of the 36
# latent vectors show at the end of the first epoch the class they end with (more than the one in ten that chance
# would give). After the first epoch the generator still reassigns garments to latent vectors, not only sharpens them.

# %%
labels = torch.stack([train.predict(classifier, f.to(device)).argmax(1).cpu() for f in frames])  # (snapshots, 36)
epoch_1 = min(i for i, s in enumerate(steps) if s >= steps_per_epoch) if steps[-1] >= steps_per_epoch else len(steps) - 1
kept = (labels[epoch_1] == labels[-1]).float().mean().item()
print(f"latent vectors whose garment class at the end of epoch 1 is their final class: {kept:.0%} of {labels.shape[1]}")
_ = results.claim("fewer than half of the 36 latent vectors show at the end of the first epoch the class they end with "
                  "(more than the one in ten that chance would give)", 0.1 < kept < 0.5, detail=f"{kept:.0%}")

# %% [markdown]
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | the game | $\min_G\max_D \mathbb E\log D(x) + \mathbb E\log(1-D(G(z)))$; for any $G$, $D^* = p_\text{data}/(p_\text{data}+p_g)$ and $V(D^*, G) = -\log 4 + 2\,\mathrm{JSD}$; equilibrium $p_g = p_\text{data}$, $D = \tfrac12$, $V = -\log 4$ |
# | one step | D on real and **detached** fake, then G through a frozen D; a plain trainer with an optimizer dict suffices |
# | generator loss | saturating $\log(1-D)$ has gradient $D$ → vanishes when D wins; non-saturating $-\log D$ has $1-D$ |
# | failure modes | mode collapse (here in its hopping, non-convergent form), oscillating losses, D overpowering G |
# | toy ring | count covered modes; G learning 10× faster than D hopped between spots, balanced rates (the idea behind TTUR) covered (nearly) all eight |
# | DCGAN | transposed convs + BN + ReLU + tanh in G; strided convs + LeakyReLU in D, no BN on D's input; data in [−1, 1]; weights with std 0.02 |
# | why Wasserstein | on disjoint supports the JSD is stuck at $\log 2$; $W_1$ keeps measuring the distance, and a WGAN critic's value estimates it |
# | WGAN-GP / spectral norm | keep D (nearly) 1-Lipschitz: gradient penalty on a critic, or each weight divided by its top singular value |
# | evaluation | Fréchet distance in a classifier's feature space, always at the same N and next to the real-vs-real floor; plus class coverage (a partial mode drop shows up there) |
# | latent space | neighbouring z give neighbouring images; interpolate (spherically) to see it |
#
# The numbers this run produced (the last lines also store them for the course's benchmark report):

# %%
print(f"D* check (1-D): average |D - D*| {gap:.3f}; V(trained D) {v_trained:.4f} vs V(D*) {v_star:.4f}")
print(f"Fréchet distance at N = {n}: real vs real floor {floor['frechet']:.2f}; "
      + ", ".join(f"{title} {s['frechet']:.2f}" for title, s in trained.items()))
print("classes covered: " + ", ".join(f"{title} {s['classes_covered']}" for title, s in trained.items())
      + f" (real data {floor['classes_covered']})")
print("toy ring, modes covered per seed: " + "; ".join(
    f"{label}: {[toy_modes[label, s].covered for s in cfg.toy_seeds]}" for label in toy_configs))
print("from-scratch training time of each checkpoint: " + ", ".join(
    f"{training.VARIANTS[k].title} {m['train_seconds']:.0f} s" for k, m in metas.items() if "train_seconds" in m))
role = {fast: "collapsing", "balanced": "working"}
results.record("gan_toy_modes_covered", {f"{role[label]}_seed{s}": toy_modes[label, s].covered
                                         for label in toy_configs for s in cfg.toy_seeds}, unit="modes of 8")
results.record("gan_frechet", {"real_floor": floor["frechet"]} | {k: scores[training.VARIANTS[k].title]["frechet"] for k in variants},
               unit=f"Fréchet distance, N = {n}", note="course classifier features, not Inception")
_ = results.record("gan_classes_covered", {"real": floor["classes_covered"]}
               | {k: scores[training.VARIANTS[k].title]["classes_covered"] for k in variants}, unit="classes of 10")

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
_ = checks.check_non_saturating_loss(non_saturating_loss)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer is one line, `F.softplus(-fake_logits).mean()` or
# `-F.logsigmoid(fake_logits).mean()`, and the check prints `PASSED`. The usual wrong answers each get their own
# message from the check: `-torch.log(torch.sigmoid(x)).mean()` (infinite at logit −200), the saturating loss
# `-F.softplus(x).mean()`, a sum instead of a mean, a flipped sign.
# - full: passes, and the learner can say why softplus is stable (it never takes the log of a rounded zero)
# - most: passes with `-torch.log(torch.sigmoid(x) + eps)` style fixes (finite, but biased for confident D)
# - partial: right formula, unstable or summed;
# - none: the saturating loss, or D's loss.

# %% [markdown]
# **Exercise 2: the R1 gradient penalty.** WGAN-GP penalizes the critic's gradient between real and fake samples.
# A simpler penalty, **R1** (Mescheder et al., 2018; used by StyleGAN), keeps an ordinary discriminator smooth
# *on the data*: it is the mean over a real batch of the squared norm of the gradient of D's logit with respect to
# its input, $\mathbb E_{x\sim p_\text{data}}\lVert\nabla_x D(x)\rVert^2$. Write `r1_penalty(D, real)`. The penalty is
# added to D's loss, so D's optimizer must be able to differentiate it with respect to D's weights (think about what
# `torch.autograd.grad` keeps by default). Then compare the penalty of the trained DCGAN and spectral-norm
# discriminators on 256 real test images (in eval mode): which one is smoother on the data, and why would you expect that?

# %% jupyter={"source_hidden": true} tags=["solution"]
def r1_penalty(D, real):
    real = real.detach().requires_grad_(True)                                 # gradients with respect to the input
    (grad,) = torch.autograd.grad(D(real).sum(), real, create_graph=True)     # keep the graph: D's optimizer needs it
    return grad.flatten(1).pow(2).sum(1).mean()                              # |grad|² per sample, averaged


real_batch = training.to_gan_range(ds.X_test[:256]).to(device)
r1 = {name: r1_penalty(variants[name].D.eval(), real_batch).item() for name in ("gan_dcgan", "gan_sngan")}
print(", ".join(f"{training.VARIANTS[k].title}: R1 = {v:.3g}" for k, v in r1.items()))

# %%
_ = checks.check_r1_penalty(r1_penalty)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer takes the gradient with respect to a detached copy of the real
# batch that requires grad, with `torch.autograd.grad(D(real).sum(), real, create_graph=True)`, and returns
# `grad.flatten(1).pow(2).sum(1).mean()`; the check prints `PASSED`, and the solution prints one R1 value per
# discriminator (DCGAN and spectral norm; read them in the solution's output). The written part should say that
# spectral normalization bounds each layer's stretch (exactly for the linear layer, nearly for the convolutions,
# section 6), so its gradients on the data are kept small, while the batch-norm DCGAN discriminator has no such
# bound; one number per model on 256 images supports "smoother on these images", not a general ranking.
# - full: passes, compares the two printed values correctly and explains `create_graph=True` (the penalty must be
#   differentiable with respect to D's weights);
# - most: passes, comparison without the reason;
# - partial: a value but no graph (the check names it), or a norm instead of its square;
# - none: the WGAN-GP penalty copied unchanged (target 1, at interpolates).

# %% [markdown]
# **Exercise 3: the Fréchet floor against the sample size.** Section 7 compared every distance with a floor at
# one sample size, $N$ = 5,000. How much does the floor itself depend on $N$? Write `frechet_floor(features, n)`:
# the Fréchet distance between rows $[0, n)$ and $[n, 2n)$ of a feature matrix, refusing (with a `ValueError` that
# says why) an `n` for which the two halves would overlap. Then print, for each sample size in `cfg.floor_sizes`,
# the floor of the real test features next to the DCGAN's distance at the same size, and say whether a model's
# distance at $N$ = 500 could be compared with a floor at $N$ = 5,000.

# %% jupyter={"source_hidden": true} tags=["solution"]
def frechet_floor(features, n):
    if 2 * n > len(features):
        raise ValueError(f"n = {n} needs 2n = {2 * n} rows for two disjoint halves, but features has {len(features)}.")
    return evaluation.frechet_distance(features[:n], features[n:2 * n])


test_features = torch.cat([real_features, evaluation.embed(classifier, real_b)])  # all 2N test images
dcgan_features = evaluation.embed(classifier, views.to_unit(train.predict(variants["gan_dcgan"].G, z_eval.to(device)).cpu()))
print(f"{'N':>6} {'floor':>7} {'DCGAN':>7}")
for size in cfg.floor_sizes:
    print(f"{size:>6} {frechet_floor(test_features, size):>7.2f} "
          f"{evaluation.frechet_distance(dcgan_features[:size], real_features[:size]):>7.2f}")

# %%
_ = checks.check_frechet_floor(frechet_floor)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer slices rows `[0, n)` and `[n, 2n)`, calls
# `evaluation.frechet_distance`, and raises `ValueError` when `2n > len(features)`; the check prints `PASSED`. The
# solution prints, for N = 500, 1,000, 2,000 and 5,000, the real-vs-real floor and the DCGAN's distance at the same
# N (read them in its output): both fall as N grows, the floor roughly in proportion to 1/N, because a 1,152-dimensional
# covariance estimated from few samples is noisy. So a model's distance at N = 500 cannot be compared with a floor
# (or a published number) at N = 5,000: compare only at equal N, next to that N's floor.
# - full: passes, reads the table as above and states the "same N" rule;
# - most: passes, notices that the floor falls, without the consequence for comparisons;
# - partial: the same or overlapping rows for both halves (the check names it), or no refusal;
# - none: the distance between a model's samples and the test set, not a floor.

# %% [markdown]
# ## Further reading
#
# - I. Goodfellow et al. *Generative adversarial nets.* NeurIPS 2014, arXiv:1406.2661 (the minimax game, D*, the JSD form, the non-saturating loss).
# - I. Goodfellow. *NIPS 2016 tutorial: generative adversarial networks.* arXiv:1701.00160.
# - A. Radford, L. Metz, S. Chintala. *Unsupervised representation learning with deep convolutional generative adversarial networks.* ICLR 2016, arXiv:1511.06434 (DCGAN).
# - L. Metz, B. Poole, D. Pfau, J. Sohl-Dickstein. *Unrolled generative adversarial networks.* ICLR 2017, arXiv:1611.02163 (the ring of Gaussians, mode collapse).
# - M. Arjovsky, L. Bottou. *Towards principled methods for training generative adversarial networks.* ICLR 2017, arXiv:1701.04862 (JSD on disjoint supports).
# - M. Arjovsky, S. Chintala, L. Bottou. *Wasserstein GAN.* ICML 2017, arXiv:1701.07875.
# - I. Gulrajani, F. Ahmed, M. Arjovsky, V. Dumoulin, A. Courville. *Improved training of Wasserstein GANs.* NeurIPS 2017, arXiv:1704.00028 (WGAN-GP).
# - T. Miyato, T. Kataoka, M. Koyama, Y. Yoshida. *Spectral normalization for generative adversarial networks.* ICLR 2018, arXiv:1802.05957.
# - H. Gouk, E. Frank, B. Pfahringer, M. J. Cree. *Regularisation of neural networks by enforcing Lipschitz continuity.* Machine Learning 110, 2021, arXiv:1804.04368 (the Lipschitz constant of convolutions).
# - H. Sedghi, V. Gupta, P. M. Long. *The singular values of convolutional layers.* ICLR 2019, arXiv:1805.10408.
# - M. Heusel, H. Ramsauer, T. Unterthiner, B. Nessler, S. Hochreiter. *GANs trained by a two time-scale update rule converge to a local Nash equilibrium.* NeurIPS 2017, arXiv:1706.08500 (TTUR and FID).
# - L. Mescheder, A. Geiger, S. Nowozin. *Which training methods for GANs do actually converge?* ICML 2018, arXiv:1801.04406 (the R1 penalty).
# - T. Salimans et al. *Improved techniques for training GANs.* NeurIPS 2016, arXiv:1606.03498.
# - M. Lucic, K. Kurach, M. Michalski, S. Gelly, O. Bousquet. *Are GANs created equal? A large-scale study.* NeurIPS 2018, arXiv:1711.10337.
# - H. Xiao, K. Rasul, R. Vollgraf. *Fashion-MNIST.* arXiv:1708.07747, 2017.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
