"""Training chapter 04's GANs: one step per loss family for ``train.fit``, the three Fashion-MNIST variants, checkpoints.

Introduced in chapter 04. ``gan_step`` is the step written out in 04_gan §3 (``my_gan_step``; asserted equal in the
cell after it) plus ``d_steps``; ``wgan_gp_step`` is its Wasserstein twin (§6). Chapter 06 compares its VAE with
this chapter's generator through ``pretrained_generator()``.

- ``gan_step`` (saturating or non-saturating loss) / ``wgan_gp_step`` (critic + gradient penalty): each returns a
  ``step(model, batch, optimizer)`` for ``train.fit``; ``model`` is a ``models.GAN``, ``optimizer`` ``{"G": ..., "D": ...}``.
- ``SampleGrids`` / ``BatchLog`` / ``CriticEstimate``: callbacks that keep G's output for fixed z, every batch's logs,
  and a Wasserstein critic's estimate on fixed data (04_gan §6).
- ``VARIANTS`` / ``make_gan`` / ``fit_variant`` / ``load_variant``: the DCGAN, WGAN-GP and SN-GAN recipes, trained
  through ``train.fit``; ``CHECKPOINTS`` makes them for ``python scripts/make_checkpoints.py gan_dcgan ...``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn

from .. import batches, checkpoints, data, runtime, train
from . import evaluation
from .losses import GENERATOR_LOSSES, critic_loss, discriminator_loss, generator_loss, gradient_penalty
from .models import GAN, Discriminator, Generator, init_dcgan_weights


def gan_step(loss: str = "non_saturating", d_steps: int = 1):
    """A ``train.fit`` step for a ``GAN`` whose D is a classifier of logits: D on real and detached fake, then G.

    ``loss`` is G's loss, 'non_saturating' or 'saturating' (``losses.generator_loss``). ``d_steps`` D updates per
    G update: the real batch is split into that many chunks, each met by fresh fakes. Returns {'d_loss', 'g_loss',
    'd_real', 'd_fake'}: the last D update's loss, G's loss, and D's mean probability on real and on fake images.
    """
    assert loss in GENERATOR_LOSSES and isinstance(d_steps, int) and d_steps > 0, \
        f"need loss in {GENERATOR_LOSSES} and d_steps >= 1, got loss={loss!r}, d_steps={d_steps!r}"

    def step(model, batch, optimizer):
        assert isinstance(optimizer, dict) and {"G", "D"} <= set(optimizer), 'optimizer must be {"G": ..., "D": ...}'
        G, D, real = model.G, model.D, batch[0]
        for chunk in real.chunk(d_steps):
            # (1) update D: maximize log D(x) + log(1 - D(G(z)))
            fake = G(model.sample_z(len(chunk))).detach()  # D's update must not reach G's weights
            real_logits, fake_logits = D(chunk), D(fake)
            d_loss = discriminator_loss(real_logits, fake_logits)
            optimizer["D"].zero_grad(set_to_none=True)
            d_loss.backward()
            optimizer["D"].step()
        # (2) update G: maximize log D(G(z)) (saturating: minimize log(1 - D(G(z)))), through D but not into D
        D.requires_grad_(False)
        g_loss = generator_loss(D(G(model.sample_z(len(real)))), loss)
        optimizer["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizer["G"].step()
        D.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": torch.sigmoid(real_logits).mean().item(),
                "d_fake": torch.sigmoid(fake_logits).mean().item()}

    return step


def wgan_gp_step(gp_weight: float = 10.0, d_steps: int = 1):
    """A ``train.fit`` step for a ``GAN`` whose D is a Wasserstein critic, kept near 1-Lipschitz by the gradient penalty.

    The critic minimizes ``critic_loss + gp_weight * gradient_penalty`` on real and detached fake; then G maximizes the
    critic's score of fresh fakes. ``d_steps`` critic updates per G update, as in ``gan_step``. Returns {'d_loss',
    'g_loss', 'd_real', 'd_fake'}: the critic loss (without the penalty), G's loss, and the mean critic scores.
    """
    assert isinstance(gp_weight, int | float) and gp_weight >= 0 and isinstance(d_steps, int) and d_steps > 0, \
        f"need gp_weight >= 0 and d_steps >= 1, got gp_weight={gp_weight!r}, d_steps={d_steps!r}"

    def step(model, batch, optimizer):
        assert isinstance(optimizer, dict) and {"G", "D"} <= set(optimizer), 'optimizer must be {"G": ..., "D": ...}'
        G, D, real = model.G, model.D, batch[0]
        for chunk in real.chunk(d_steps):
            # (1) update the critic: maximize E[f(x)] - E[f(G(z))] - gp_weight * E[(||grad f(x_hat)|| - 1)^2]
            fake = G(model.sample_z(len(chunk))).detach()  # the critic's update must not reach G's weights
            real_scores, fake_scores = D(chunk), D(fake)
            d_loss = critic_loss(real_scores, fake_scores)
            optimizer["D"].zero_grad(set_to_none=True)
            (d_loss + gp_weight * gradient_penalty(D, chunk, fake)).backward()
            optimizer["D"].step()
        # (2) update G: maximize E[f(G(z))], through the critic but not into it
        D.requires_grad_(False)
        g_loss = -D(G(model.sample_z(len(real)))).mean()
        optimizer["G"].zero_grad(set_to_none=True)
        g_loss.backward()
        optimizer["G"].step()
        D.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": real_scores.mean().item(),
                "d_fake": fake_scores.mean().item()}

    return step


class SampleGrids(train.Callback):
    """Keeps ``G(z_fixed)`` (in eval mode) after the first batch, every ``every`` batches and at the end."""

    def __init__(self, z_fixed: torch.Tensor, every: int):
        if not isinstance(z_fixed, torch.Tensor):
            raise TypeError(f"z_fixed must be a (N, latent_dim) tensor of latent vectors, not {type(z_fixed).__name__}.")
        if z_fixed.dim() != 2 or len(z_fixed) == 0:
            raise ValueError(f"z_fixed must be a non-empty (N, latent_dim) tensor, got shape {tuple(z_fixed.shape)}.")
        if not (z_fixed.is_floating_point() and torch.isfinite(z_fixed).all()):
            raise ValueError(f"z_fixed must hold finite float latent vectors (e.g. torch.randn(N, latent_dim)), got "
                             f"{_describe(z_fixed)}{'' if not z_fixed.is_floating_point() else ' with NaN or inf'}.")
        if not isinstance(every, int) or isinstance(every, bool) or every < 1:
            raise ValueError(f"every must be a positive int, not {every!r}.")
        self.z_fixed, self.every = z_fixed, every
        self.frames: list[torch.Tensor] = []
        self.steps: list[int] = []
        self.batches = 0

    def snapshot(self, model) -> None:
        with train.eval_mode(model):  # batch norm uses its running statistics, as in every later use of G
            self.frames.append(model.G(self.z_fixed.to(next(model.parameters()).device)).cpu())
        self.steps.append(self.batches)

    def on_batch_end(self, model, logs):
        self.batches += 1
        if self.batches == 1 or self.batches % self.every == 0:
            self.snapshot(model)

    def on_train_end(self, model, history):
        if not self.steps or self.steps[-1] != self.batches:
            self.snapshot(model)


class CriticEstimate(SampleGrids):
    """``SampleGrids`` that also records the critic's Wasserstein estimate E f(x) - E f(G(z)) on fixed data.

    ``real`` (N, ...) are fixed real samples; ``estimates[i]`` is the gap in mean critic score after ``steps[i]``
    batches, measured on ``frames[i]``, the samples G(z_fixed) kept at that moment (04_gan §6).
    """

    def __init__(self, real: torch.Tensor, z_fixed: torch.Tensor, every: int):
        if not isinstance(real, torch.Tensor) or real.dim() < 2 or len(real) == 0:
            raise ValueError(f"real must be a non-empty tensor with one row per sample, got {_describe(real)}.")
        if not (real.is_floating_point() and torch.isfinite(real).all()):
            raise ValueError(f"real must hold finite float samples (as the critic is trained on), got {_describe(real)}"
                             f"{'' if not real.is_floating_point() else ' with NaN or inf'}.")
        super().__init__(z_fixed, every)
        self.real = real
        self.estimates: list[float] = []

    def snapshot(self, model) -> None:
        super().snapshot(model)
        with train.eval_mode(model), torch.no_grad():
            device = next(model.parameters()).device
            gap = model.D(self.real.to(device)).mean() - model.D(self.frames[-1].to(device)).mean()  # the W1 estimate
        self.estimates.append(gap.item())


class BatchLog(train.Callback):
    """Keeps every batch's logs (``fit`` itself averages them per epoch): ``log.logs["d_loss"]`` is a list."""

    def __init__(self):
        self.logs: dict[str, list[float]] = {}

    def on_batch_end(self, model, logs):
        for k, v in logs.items():
            self.logs.setdefault(k, []).append(v)


# ---------------------------------------------------------------- the three Fashion-MNIST variants

@dataclass(frozen=True)
class Variant:
    """Everything that differs between the chapter's Fashion-MNIST GANs."""

    title: str
    norm: str        # the discriminator's normalization (models.NORMS)
    loss: str        # 'non_saturating' or 'saturating' (gan_step), or 'wgan_gp' (wgan_gp_step)
    d_steps: int     # D updates per G update
    lr_g: float
    lr_d: float
    betas: tuple

    def step(self):
        """This variant's ``train.fit`` step."""
        return wgan_gp_step(d_steps=self.d_steps) if self.loss == "wgan_gp" else gan_step(self.loss, self.d_steps)


VARIANTS = {
    "gan_dcgan": Variant("DCGAN", "batch", "non_saturating", 1, 2e-4, 2e-4, (0.5, 0.999)),
    "gan_wgan_gp": Variant("WGAN-GP", "none", "wgan_gp", 1, 1e-4, 1e-4, (0.0, 0.9)),
    "gan_sngan": Variant("spectral norm", "spectral", "non_saturating", 1, 2e-4, 2e-4, (0.5, 0.999)),
}
BEST = "gan_dcgan"  # lowest Fréchet distance of the three checkpoints (tests/gan/test_training.py checks their meta)
LATENT_DIM, CHANNELS = 64, 64
FULL = {"num_epochs": 3, "batch_size": 64, "snapshot_every": 250}
SMOKE = {"num_epochs": 1, "batch_size": 64, "snapshot_every": 20, "n_train": 1500}


def _describe(x) -> str:
    return f"a {x.dtype} tensor of shape {tuple(x.shape)}" if isinstance(x, torch.Tensor) else type(x).__name__


def make_gan(name: str, latent_dim: int = LATENT_DIM, channels: int = CHANNELS, seed: int = 0) -> GAN:
    """The (untrained, DCGAN-initialized) GAN of variant ``name`` ('gan_dcgan', 'gan_wgan_gp', 'gan_sngan')."""
    if name not in VARIANTS:
        raise ValueError(f"name must be one of the variants {sorted(VARIANTS)}, not {name!r}.")
    torch.manual_seed(seed)
    model = GAN(Generator(latent_dim, channels), Discriminator(channels, VARIANTS[name].norm))
    init_dcgan_weights(model)
    return model


def to_gan_range(images: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> [-1, 1], the range of the generator's tanh."""
    if not (isinstance(images, torch.Tensor) and images.is_floating_point()):
        raise TypeError(f"images must be a float tensor of pixels in [0, 1], got {_describe(images)}; "
                        "for uint8 pixels use images.float() / 255 (divide by 255).")
    if images.numel() == 0 or not torch.isfinite(images).all():
        raise ValueError(f"images must hold finite pixels in [0, 1], got {'an empty tensor' if images.numel() == 0 else 'NaN or inf'}.")
    if images.min() < 0 or images.max() > 1:
        hint = " (pixels in 0..255: divide by 255)" if images.max() > 1.5 else ""
        raise ValueError(f"images must lie in [0, 1], got {images.min().item():.3g}..{images.max().item():.3g}{hint}.")
    return images * 2 - 1


def fit_variant(model: GAN, name: str, X: torch.Tensor, *, num_epochs: int, batch_size: int, snapshot_every: int,
                seed: int = 0, device="cpu", verbose: bool = False, live_plot: bool = False,
                z_fixed: torch.Tensor | None = None) -> tuple[train.History, SampleGrids]:
    """Train ``model`` as variant ``name`` on images ``X`` in [0, 1] through ``train.fit``: (History, sample grids).

    Two Adam optimizers with the variant's rates, shuffled batches of ``batch_size * d_steps`` images mapped to
    [-1, 1], the variant's step; ``SampleGrids`` keeps ``G(z_fixed)`` every ``snapshot_every`` batches (default
    z_fixed: 36 latent vectors drawn with ``seed``).
    """
    if not isinstance(model, GAN):
        raise TypeError(f"model must be a models.GAN (e.g. make_gan(name)), not {type(model).__name__}.")
    if name not in VARIANTS:
        raise ValueError(f"name must be one of the variants {sorted(VARIANTS)}, not {name!r}.")
    if not isinstance(X, torch.Tensor) or X.dim() != 4 or tuple(X.shape[1:]) != (1, 28, 28):
        raise ValueError(f"X must be images shaped (N, 1, 28, 28) in [0, 1], got {_describe(X)}.")
    if not X.is_floating_point() or X.max() > 1.5:
        raise ValueError(f"X must hold pixels in [0, 1], got {_describe(X)} with values up to {X.max().item():g}: "
                         "divide by 255 (X.float() / 255).")
    if not isinstance(snapshot_every, int) or isinstance(snapshot_every, bool) or snapshot_every < 1:
        raise ValueError(f"snapshot_every must be a positive int (batches between sample grids), not {snapshot_every!r}.")
    if z_fixed is not None and (not isinstance(z_fixed, torch.Tensor) or z_fixed.dim() != 2
                                or z_fixed.shape[1] != model.latent_dim):
        raise ValueError(f"z_fixed must be a (N, {model.latent_dim}) tensor of latent vectors, got {_describe(z_fixed)}.")
    v = VARIANTS[name]
    images = to_gan_range(X)
    torch.manual_seed(seed)
    model.to(device)
    loader = batches.Batches(images, batch_size=batch_size * v.d_steps, shuffle=True, drop_last=True,
                             device=device, seed=seed)
    optimizer = {"G": torch.optim.Adam(model.G.parameters(), lr=v.lr_g, betas=v.betas),
                 "D": torch.optim.Adam(model.D.parameters(), lr=v.lr_d, betas=v.betas)}
    if z_fixed is None:
        z_fixed = torch.randn(36, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    grids = SampleGrids(z_fixed, every=snapshot_every)
    history = train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, step=v.step(), monitor=None,
                        callbacks=[grids], verbose=verbose, live_plot=live_plot)
    return history, grids


def frames_to_meta(grids: SampleGrids) -> dict:
    """The sample grids as plain lists (uint8 pixel values), small enough to ride along in a checkpoint's meta."""
    frames = [((f.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).flatten().tolist() for f in grids.frames]
    return {"grid_frames": frames, "grid_steps": list(grids.steps), "grid_shape": list(grids.frames[0].shape)}


def frames_from_meta(meta: dict) -> tuple[list[torch.Tensor], list[int]]:
    """Inverse of ``frames_to_meta``: a list of (N, 1, 28, 28) tensors in [0, 1] and the batch count of each."""
    if not isinstance(meta, dict):
        raise TypeError(f"meta must be a checkpoint's meta dict, not {type(meta).__name__}.")
    if "grid_frames" not in meta:
        raise ValueError("this checkpoint's meta holds no sample grids (no 'grid_frames').")
    shape = meta["grid_shape"]
    frames = [torch.tensor(f, dtype=torch.uint8).view(*shape).float() / 255 for f in meta["grid_frames"]]
    return frames, list(meta["grid_steps"])


# ---------------------------------------------------------------- checkpoints

def _make(name: str):
    """Train variant ``name`` at full size on all Fashion-MNIST training images (for scripts/make_checkpoints.py)."""
    runtime.seed_everything(0)
    ds = data.load_fashion_mnist(allow_subset=False)
    model = make_gan(name)
    history, grids = fit_variant(model, name, ds.X_train, **FULL, verbose=True)
    model.eval()
    classifier, _ = evaluation.fashion_classifier()
    with torch.no_grad():
        fakes = model.G(torch.randn(5000, model.latent_dim, generator=torch.Generator().manual_seed(1)))
    real = evaluation.embed(classifier, ds.X_test[:5000])
    s = evaluation.scores(classifier, (fakes + 1) / 2, real)
    meta = {"variant": name, "num_epochs": FULL["num_epochs"], "frechet_5000": round(s["frechet"], 3),
            "classes_covered": s["classes_covered"], "d_loss": history["train_d_loss"], "g_loss": history["train_g_loss"],
            "seconds_per_epoch": history["seconds"]}
    return model, meta | frames_to_meta(grids)


def _make_dcgan():
    return _make("gan_dcgan")


def _make_wgan_gp():
    return _make("gan_wgan_gp")


def _make_sngan():
    return _make("gan_sngan")


CHECKPOINTS = {"gan_dcgan": _make_dcgan, "gan_wgan_gp": _make_wgan_gp, "gan_sngan": _make_sngan}


def load_variant(name: str, use_checkpoint: bool = True, X: torch.Tensor | None = None, device="cpu",
                 verbose: bool = False) -> tuple[GAN, str, dict]:
    """Variant ``name`` loaded from its course checkpoint, or trained (small in smoke mode): (model, message, meta).

    Without a checkpoint it trains on ``X`` (images in [0, 1]; default: Fashion-MNIST, a subset in smoke mode).
    ``meta`` always holds the sample grids ('grid_frames', see ``frames_from_meta``).
    """
    model = make_gan(name)
    settings = dict(SMOKE if runtime.smoke_mode() else FULL)
    n_train = settings.pop("n_train", None)

    def fit_it(m):
        images = X if X is not None else data.load_fashion_mnist(n_train=n_train, n_test=100).X_train
        history, grids = fit_variant(m, name, images, **settings, device=device, verbose=verbose)
        return frames_to_meta(grids) | {"d_loss": history["train_d_loss"], "g_loss": history["train_g_loss"]}

    message, meta = checkpoints.load_or_train(model, name, fit_it, use_checkpoint=use_checkpoint)
    if "result" in meta:
        meta = meta | meta.pop("result")
    return model.eval(), message, meta


def pretrained_generator(use_checkpoint: bool = True) -> tuple[nn.Module, str]:
    """The chapter's best DCGAN-family generator (eval mode) and a sentence saying whether it was loaded or trained.

    ``G.latent_dim`` is the size of z; ``G(z)`` maps (N, latent_dim) to images (N, 1, 28, 28) in [-1, 1].
    Used by chapter 06 to compare its VAE with a GAN.
    """
    model, message, _ = load_variant(BEST, use_checkpoint=use_checkpoint)
    return model.G.eval(), message
