"""Chapter 01's training recipe: ``train_classifier`` (§5) and ``bf16_supported``.

One function trains every classifier of the chapter (the MLP baseline, ``FashionCNN`` and the
exercise models) and ``benchmarks/target_cnn.py`` calls the same function, so the benchmark measures what the
notebook teaches. The recipe: SGD with Nesterov momentum and weight decay, a one-cycle learning rate, label
smoothing, optional augmentation, channels-last tensors and, where the CPU computes in bfloat16 natively,
bfloat16 autocast ("mixed precision").
"""

from __future__ import annotations

import math

import torch
import torch.nn.functional as F

from .. import batches, train


def bf16_supported() -> bool:
    """True when this CPU has native bfloat16 matrix units (AVX512-BF16 or AMX), so autocast speeds convs up."""
    cpu = getattr(torch, "cpu", None)
    checks = [getattr(cpu, name, None) for name in ("_is_avx512_bf16_supported", "_is_amx_tile_supported")]
    return any(check() for check in checks if callable(check))


def _channels_last(t: torch.Tensor) -> torch.Tensor:
    return t.contiguous(memory_format=torch.channels_last)


def _check_positive_int(name: str, value) -> None:
    if isinstance(value, bool) or not isinstance(value, int) or value < 1:
        raise ValueError(f"{name} must be a positive int, got {value!r}.")


def _describe(t) -> str:
    return f"a {t.dtype} tensor of shape {tuple(t.shape)}" if isinstance(t, torch.Tensor) else type(t).__name__


def _check_data(model: torch.nn.Module, X, y, X_test, y_test, bf16: bool) -> None:
    """Images float (N, C, H, W) in [0, 1], labels int64 (N,) that the model's logits (B, num_classes) can score."""
    for name, images in (("X", X), ("X_test", X_test)):
        if not (isinstance(images, torch.Tensor) and images.is_floating_point()):
            raise TypeError(f"{name} must be a float tensor of images (N, C, H, W), got {_describe(images)}; "
                            "for 0..255 pixels use x.float() / 255.")
        if images.dim() != 4 or len(images) == 0:
            raise ValueError(f"{name} must be a non-empty batch of images (N, C, H, W), got shape {tuple(images.shape)}.")
        low, high = torch.aminmax(images)  # one pass over the data; NaN fails both comparisons
        if not (low >= 0 and high <= 1):
            raise ValueError(f"{name} must hold pixels in [0, 1], got values from {low.item():.4g} to {high.item():.4g} "
                             "(NaN: damaged data; above 1: divide 0..255 images by 255).")
    for name, labels, images in (("y", y, "X"), ("y_test", y_test, "X_test")):
        n = len(X if images == "X" else X_test)
        if not (isinstance(labels, torch.Tensor) and labels.dtype == torch.int64):
            raise TypeError(f"{name} must be an int64 tensor of class indices (one per image of {images}), got "
                            f"{_describe(labels)}.")
        if labels.shape != (n,) or labels.min() < 0:
            raise ValueError(f"{name} must hold one class index >= 0 per image of {images}, shape ({n},), got "
                             f"shape {tuple(labels.shape)}" + (f" with {labels.min().item()}." if labels.numel() else "."))
    device = next(model.parameters(), torch.empty(0)).device
    with train.eval_mode(model), torch.random.fork_rng(devices=[]), torch.autocast("cpu", torch.bfloat16, enabled=bf16):
        logits = model(X_test[:2].to(device))  # eval mode, no gradient, no random draw: training is unchanged
    classes = int(max(y.max(), y_test.max())) + 1
    if not (isinstance(logits, torch.Tensor) and logits.dim() == 2 and logits.shape[1] >= classes):
        raise ValueError(f"model must map images to logits (B, num_classes) with num_classes >= {classes} (the labels "
                         f"go up to {classes - 1}), but 2 test images gave {_describe(logits)}.")


def _device(device) -> torch.device:
    try:
        return torch.device(device)
    except (RuntimeError, TypeError) as err:
        raise ValueError(f"device must name a torch device such as 'cpu' or 'cuda', not {device!r}.") from err


def train_classifier(model, X, y, X_test, y_test, *, num_epochs: int, lr: float, batch_size: int, device,
                     transform=None, label_smoothing: float = 0.1, weight_decay: float = 5e-4,
                     mixed_precision: bool | str = "auto", verbose: bool = True, live_plot: bool = False) -> train.History:
    """Train ``model`` with SGD (Nesterov) + one-cycle schedule + label smoothing; returns its History.

    The test set (``X_test``, ``y_test``) is only measured after each epoch (``val_*`` records), never used to
    choose anything: the last epoch's weights are kept. ``transform`` augments each training batch.
    ``mixed_precision``: True runs forward passes under bfloat16 autocast on the CPU, False never does, "auto"
    does where ``bf16_supported()``.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"model must be an nn.Module, got {type(model).__name__}.")
    _check_positive_int("num_epochs", num_epochs)
    _check_positive_int("batch_size", batch_size)
    if isinstance(lr, bool) or not isinstance(lr, int | float) or not 0 < lr < math.inf:
        raise ValueError(f"lr must be a positive number (and finite), got {lr!r}.")
    if isinstance(weight_decay, bool) or not isinstance(weight_decay, int | float) or not 0 <= weight_decay < math.inf:
        raise ValueError(f"weight_decay must be a finite number >= 0, got {weight_decay!r}.")
    if isinstance(label_smoothing, bool) or not isinstance(label_smoothing, int | float) or not 0 <= label_smoothing < 1:
        raise ValueError(f"label_smoothing must be in [0, 1), got {label_smoothing!r}.")
    if mixed_precision not in (True, False, "auto"):
        raise ValueError(f"mixed_precision must be True, False or 'auto', got {mixed_precision!r}.")
    if transform is not None and not callable(transform):
        raise TypeError(f"transform must be a function of a batch of images, got {type(transform).__name__}.")
    device = _device(device)
    use_bf16 = device.type == "cpu" and (bf16_supported() if mixed_precision == "auto" else mixed_precision)
    _check_data(model, X, y, X_test, y_test, use_bf16)  # images in [0, 1], labels the model's logits can score
    augment_batch = (lambda t: _channels_last(transform(t))) if transform else _channels_last
    model = model.to(device, memory_format=torch.channels_last)
    train_loader = batches.Batches(X, y, batch_size=batch_size, shuffle=True, drop_last=True, device=device,
                                   transform=augment_batch)
    test_loader = batches.Batches(X_test, y_test, batch_size=1000, device=device, transform=_channels_last)
    optimizer = torch.optim.SGD(model.parameters(), lr=lr, momentum=0.9, nesterov=True, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, pct_start=0.25,
                                                    total_steps=num_epochs * len(train_loader))

    def loss_fn(logits, targets):
        return F.cross_entropy(logits.float(), targets, label_smoothing=label_smoothing)

    plain_step = train.classification_step(loss_fn)

    def step(model, batch, optimizer=None):
        with torch.autocast("cpu", dtype=torch.bfloat16, enabled=use_bf16):
            return plain_step(model, batch, optimizer)

    return train.fit(model, train_loader, num_epochs=num_epochs, optimizer=optimizer, scheduler=scheduler,
                     step=step, val_loader=test_loader, monitor=None, verbose=verbose, live_plot=live_plot)
