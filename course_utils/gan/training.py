"""Generative adversarial networks: toy data, the losses, one training step for ``train.fit``, DCGAN models.

Introduced in chapter 04, where each piece is first written out in the notebook. Chapter 06 compares its
VAE with this chapter's generator through ``pretrained_generator()``.

- ``ring_of_gaussians`` / ``count_modes``: the 2-D toy distribution and how many of its modes a sample covers.
- losses on the discriminator's *logits* (``discriminator_loss``, ``generator_loss``) and the Wasserstein
  critic's *scores* (``critic_loss``, ``gradient_penalty``).
- ``gan_step``: a ``step(model, batch, optimizer)`` for ``train.fit``; ``model`` is a ``GAN`` holding ``G`` and
  ``D``, ``optimizer`` a dict ``{"G": ..., "D": ...}``.
- ``Generator`` / ``Discriminator``: DCGAN for 28x28 images in [-1, 1]; the discriminator's ``norm`` picks batch
  norm (DCGAN), none (WGAN-GP critic) or spectral normalization (SN-GAN).
- ``CHECKPOINTS``: the three Fashion-MNIST variants, trained by ``python scripts/make_checkpoints.py gan_dcgan ...``.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import batches, checkpoints, runtime, train
from . import evaluation
from .models import GAN, Discriminator, Generator, _check_choice, init_dcgan_weights

LOSSES = ("saturating", "non_saturating", "wgan_gp", "wgan_clip")


# ---------------------------------------------------------------- losses

def discriminator_loss(real_logits: torch.Tensor, fake_logits: torch.Tensor) -> torch.Tensor:
    """-V(D, G) = -E[log D(x)] - E[log(1 - D(G(z)))], from D's logits (D = sigmoid(logit)).

    D maximizes the minimax value V, so it minimizes this binary cross-entropy: real -> 1, fake -> 0.
    """
    return (F.binary_cross_entropy_with_logits(real_logits, torch.ones_like(real_logits))
            + F.binary_cross_entropy_with_logits(fake_logits, torch.zeros_like(fake_logits)))


def generator_loss(fake_logits: torch.Tensor, kind: str = "non_saturating") -> torch.Tensor:
    """G's loss from D's logits on fakes.

    'saturating' (the minimax game): minimize E[log(1 - D(G(z)))] = -E[softplus(logit)].
    'non_saturating' (what everyone uses): minimize -E[log D(G(z))] = E[softplus(-logit)].
    """
    _check_choice("generator loss", kind, ("saturating", "non_saturating"))
    if kind == "saturating":
        return -F.softplus(fake_logits).mean()
    return F.softplus(-fake_logits).mean()


def critic_loss(real_scores: torch.Tensor, fake_scores: torch.Tensor) -> torch.Tensor:
    """WGAN critic: minimize E[f(G(z))] - E[f(x)], i.e. score real data high and fakes low (no sigmoid)."""
    return fake_scores.mean() - real_scores.mean()


def gradient_penalty(critic: nn.Module, real: torch.Tensor, fake: torch.Tensor) -> torch.Tensor:
    """WGAN-GP: E[(||grad_x f(x_hat)|| - 1)^2] at random points x_hat on lines between real and fake samples."""
    if real.shape != fake.shape:
        raise ValueError(f"real and fake must have the same shape, got {tuple(real.shape)} and {tuple(fake.shape)}.")
    alpha = torch.rand(len(real), *[1] * (real.dim() - 1), device=real.device)
    x_hat = (alpha * real + (1 - alpha) * fake).requires_grad_(True)
    (grad,) = torch.autograd.grad(critic(x_hat).sum(), x_hat, create_graph=True)  # keep the graph: the penalty is trained
    return ((grad.flatten(1).norm(dim=1) - 1) ** 2).mean()


def gan_step(loss: str = "non_saturating", d_steps: int = 1, gp_weight: float = 10.0, clip: float = 0.01):
    """A ``train.fit`` step for a ``GAN``: update D on real and detached fake, then G, once per batch.

    ``loss``: 'saturating' or 'non_saturating' (D is a classifier of logits), 'wgan_gp' or 'wgan_clip' (D is a
    critic; 'wgan_gp' adds ``gp_weight`` times the gradient penalty, 'wgan_clip' clips D's weights to
    [-clip, clip]). ``d_steps`` D updates per G update: the real batch is split into that many chunks, each
    met by fresh fakes. ``optimizer`` must be ``{"G": ..., "D": ...}``; with ``None`` the step only measures.
    Returns {'d_loss', 'g_loss', 'd_real', 'd_fake'}: D's mean output on real and fake (a probability for the
    classifier losses, a score for the critic).
    """
    _check_choice("loss", loss, LOSSES)
    if not isinstance(d_steps, int) or d_steps < 1:
        raise ValueError(f"d_steps must be a positive int, not {d_steps!r}.")
    critic = loss.startswith("wgan")
    readout = (lambda s: s.mean()) if critic else (lambda s: torch.sigmoid(s).mean())  # noqa: E731

    def step(model, batch, optimizer=None):
        if optimizer is not None and not (isinstance(optimizer, dict) and {"G", "D"} <= set(optimizer)):
            raise TypeError('gan_step needs optimizer={"G": ..., "D": ...}, one optimizer per network.')
        G, D, real = model.G, model.D, batch[0]
        chunks = real.chunk(d_steps) if optimizer is not None else (real,)
        for chunk in chunks:
            fake = G(model.sample_z(len(chunk))).detach()  # D's update must not reach G's weights
            real_out, fake_out = D(chunk), D(fake)
            d_loss = critic_loss(real_out, fake_out) if critic else discriminator_loss(real_out, fake_out)
            if optimizer is not None:
                total = d_loss + gp_weight * gradient_penalty(D, chunk, fake) if loss == "wgan_gp" else d_loss
                optimizer["D"].zero_grad(set_to_none=True)
                total.backward()
                optimizer["D"].step()
                if loss == "wgan_clip":
                    with torch.no_grad():
                        for p in D.parameters():
                            p.clamp_(-clip, clip)
        D.requires_grad_(False)  # G's update needs gradients through D, not for D's weights
        out = D(G(model.sample_z(len(real))))
        g_loss = -out.mean() if critic else generator_loss(out, loss)
        if optimizer is not None:
            optimizer["G"].zero_grad(set_to_none=True)
            g_loss.backward()
            optimizer["G"].step()
        D.requires_grad_(True)
        return {"d_loss": d_loss.item(), "g_loss": g_loss.item(), "d_real": readout(real_out).item(),
                "d_fake": readout(fake_out).item()}

    return step


class SampleGrids(train.Callback):
    """Keeps ``G(z_fixed)`` after the first batch, every ``every`` batches and at the end: the training-progress frames."""

    def __init__(self, z_fixed: torch.Tensor, every: int):
        if not isinstance(every, int) or every < 1:
            raise ValueError(f"every must be a positive int, not {every!r}.")
        self.z_fixed, self.every = z_fixed, every
        self.frames: list[torch.Tensor] = []
        self.steps: list[int] = []
        self.batches = 0

    @torch.no_grad()
    def snapshot(self, model) -> None:
        was_training = model.training
        model.eval()
        self.frames.append(model.G(self.z_fixed.to(next(model.parameters()).device)).cpu())
        self.steps.append(self.batches)
        model.train(was_training)

    def on_batch_end(self, model, logs):
        self.batches += 1
        if self.batches == 1 or self.batches % self.every == 0:
            self.snapshot(model)

    def on_train_end(self, model, history):
        if not self.steps or self.steps[-1] != self.batches:
            self.snapshot(model)


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
    norm: str        # the discriminator's normalization
    loss: str        # see gan_step
    d_steps: int     # D updates per G update
    lr_g: float
    lr_d: float
    betas: tuple


VARIANTS = {
    "gan_dcgan": Variant("DCGAN", "batch", "non_saturating", 1, 2e-4, 2e-4, (0.5, 0.999)),
    "gan_wgan_gp": Variant("WGAN-GP", "none", "wgan_gp", 1, 1e-4, 1e-4, (0.0, 0.9)),
    "gan_sngan": Variant("spectral norm", "spectral", "non_saturating", 1, 2e-4, 2e-4, (0.5, 0.999)),
}
BEST = "gan_dcgan"  # lowest Fréchet distance of the three checkpoints (tests/test_gan.py checks it against their meta)
LATENT_DIM, CHANNELS = 64, 64
FULL = {"num_epochs": 3, "batch_size": 64, "snapshot_every": 250}
SMOKE = {"num_epochs": 1, "batch_size": 64, "snapshot_every": 20, "n_train": 1500}


def make_gan(name: str, latent_dim: int = LATENT_DIM, channels: int = CHANNELS, seed: int = 0) -> GAN:
    """The (untrained, DCGAN-initialized) GAN of variant ``name`` ('gan_dcgan', 'gan_wgan_gp', 'gan_sngan')."""
    _check_choice("variant", name, VARIANTS)
    torch.manual_seed(seed)
    model = GAN(Generator(latent_dim, channels), Discriminator(channels, VARIANTS[name].norm))
    init_dcgan_weights(model)
    return model


def to_gan_range(images: torch.Tensor) -> torch.Tensor:
    """Pixels in [0, 1] -> [-1, 1], the range of the generator's tanh."""
    return images * 2 - 1


def train_variant(model: GAN, name: str, X: torch.Tensor, *, num_epochs: int, batch_size: int, snapshot_every: int,
                  seed: int = 0, device="cpu", verbose: bool = False, live_plot: bool = False,
                  z_fixed: torch.Tensor | None = None) -> tuple[train.History, SampleGrids]:
    """Train ``model`` as variant ``name`` on images ``X`` in [0, 1]; returns the History and the sample grids."""
    _check_choice("variant", name, VARIANTS)
    if not isinstance(X, torch.Tensor) or X.dim() != 4 or tuple(X.shape[1:]) != (1, 28, 28):
        raise ValueError(f"X must be images shaped (N, 1, 28, 28) in [0, 1], got {getattr(X, 'shape', type(X))}.")
    v = VARIANTS[name]
    torch.manual_seed(seed)
    model.to(device)
    loader = batches.Batches(to_gan_range(X), batch_size=batch_size * v.d_steps, shuffle=True, drop_last=True,
                             device=device, seed=seed)
    optimizer = {"G": torch.optim.Adam(model.G.parameters(), lr=v.lr_g, betas=v.betas),
                 "D": torch.optim.Adam(model.D.parameters(), lr=v.lr_d, betas=v.betas)}
    z_fixed = z_fixed if z_fixed is not None else torch.randn(36, model.latent_dim, generator=torch.Generator().manual_seed(seed))
    grids = SampleGrids(z_fixed, every=snapshot_every)
    history = train.fit(model, loader, num_epochs=num_epochs, optimizer=optimizer, step=gan_step(v.loss, v.d_steps),
                        monitor=None, callbacks=[grids], verbose=verbose, live_plot=live_plot)
    return history, grids


def frames_to_meta(grids: SampleGrids) -> dict:
    """The sample grids as plain lists (uint8 pixel values), small enough to ride along in a checkpoint's meta."""
    frames = [((f.clamp(-1, 1) + 1) * 127.5).round().to(torch.uint8).flatten().tolist() for f in grids.frames]
    return {"grid_frames": frames, "grid_steps": list(grids.steps), "grid_shape": list(grids.frames[0].shape)}


def frames_from_meta(meta: dict) -> tuple[list[torch.Tensor], list[int]]:
    """Inverse of ``frames_to_meta``: a list of (N, 1, 28, 28) tensors in [0, 1] and the batch count of each."""
    if "grid_frames" not in meta:
        raise ValueError("this checkpoint's meta holds no sample grids (no 'grid_frames').")
    shape = meta["grid_shape"]
    frames = [torch.tensor(f, dtype=torch.uint8).view(*shape).float() / 255 for f in meta["grid_frames"]]
    return frames, list(meta["grid_steps"])


def _make(name: str):
    """Train variant ``name`` at full size on all Fashion-MNIST training images (for scripts/make_checkpoints.py)."""
    from .. import data

    runtime.seed_everything(0)
    ds = data.load_fashion_mnist(allow_subset=False)
    model = make_gan(name)
    history, grids = train_variant(model, name, ds.X_train, **FULL, verbose=True)
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
    from .. import data

    model = make_gan(name)
    settings = dict(SMOKE if runtime.smoke_mode() else FULL)
    n_train = settings.pop("n_train", None)

    def fit_it(m):
        images = X if X is not None else data.load_fashion_mnist(n_train=n_train, n_test=100).X_train
        history, grids = train_variant(m, name, images, **settings, device=device, verbose=verbose)
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
