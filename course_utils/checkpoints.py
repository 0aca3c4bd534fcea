"""Save and load model weights safely, and the course's own checkpoints: load one if it ships, train otherwise.

Introduced in chapter 01; chapters 03, 04 and 06 load course-made checkpoints with ``load_or_train``.

- ``save_checkpoint`` writes ``NAME.pt`` (weights + plain metadata) and ``NAME.pt.sha256``.
- ``load_checkpoint`` loads with ``weights_only=True`` (no pickled code runs), after checking the SHA-256, and
  explains a file that does not fit the model.
- ``REGISTRY`` lists every checkpoint the course ships: the module whose ``CHECKPOINTS[name]`` makes it
  (``python scripts/make_checkpoints.py NAME``) and the SHA-256 the file must have. A shipped checkpoint whose
  file differs from that digest is refused, whatever its ``.sha256`` sidecar says.
"""

from __future__ import annotations

import hashlib
import importlib
import math
import os
import time
import warnings
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path

import torch

CHECKPOINT_DIR = Path(__file__).parent / "_checkpoints"
MAX_BYTES = 5 * 1024 * 1024  # a committed checkpoint stays under 5 MB


@dataclass(frozen=True)
class Shipped:
    """A checkpoint that ships with the package: who makes it and the digest its file must have."""

    module: str  # its maker is ``module.CHECKPOINTS[name]``
    sha256: str


REGISTRY: dict[str, Shipped] = {
    "fashion_classifier": Shipped("course_utils.gan.evaluation",
                                  "6761822086a19bf56d49817fbe7598e7f97225a8231e476955e926a2f12b93b8"),
    "longrange_adding_t50": Shipped("course_utils.lstm_gru.longrange",
                                    "72acfbef63ea9f120f0dcfe6c0b59218cb051d8db96c0ea976586d0334c8c09b"),
    "longrange_adding_t100": Shipped("course_utils.lstm_gru.longrange",
                                     "e39f5bc10e2fa526fe3e935df8d70cea61906a1e5fd5845f120e94fbaf72a6da"),
    "longrange_adding_t200": Shipped("course_utils.lstm_gru.longrange",
                                     "3dab1b3c2361d86383b561317242975f35bcf4789683108d8462163ce5fe68b5"),
    "charlm": Shipped("course_utils.lstm_gru.charlm",
                      "702b3520c01bc5078fca1cf5cbaf1a8ad7897367389ca3c72781a43be8795e31"),
    "gan_dcgan": Shipped("course_utils.gan.training",
                         "448d414d1ebf188ac460fdb4901096a307573cb3ff357f5d46b9a5b2952661ac"),
    "gan_wgan_gp": Shipped("course_utils.gan.training",
                           "111fea4ea586ad28610ab3350ca4fb40002f00ca498d761b328a640039358e02"),
    "gan_sngan": Shipped("course_utils.gan.training",
                         "6516543d6184155aef2638d40e97b62a3b37daf380bd4d4d78c55337a55eff2d"),
    "vae_mlp": Shipped("course_utils.vae.training",
                       "c6c7810c67ed7128521e70d9228d6531c5841c015e0332d517990a961beb900a"),
    "vae_conv": Shipped("course_utils.vae.training",
                        "171974a401603ce66429103e1848a6d44474feffc98ee00a14769a0062c3ba72"),
    "vae_conv_head": Shipped("course_utils.vae.training",
                             "090ea765445df46e5db45adffb2360b9fa7aefbbe333876f4d502952a4a933af"),
}


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not fit the model."""


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def _check_meta(value, where: str = "meta") -> None:
    """Refuse metadata that ``torch.load(weights_only=True)`` could not read back."""
    if value is None or isinstance(value, (bool, int, str)):
        return
    if isinstance(value, float):
        return
    if isinstance(value, torch.Tensor):
        return
    if isinstance(value, (list, tuple)):
        for i, v in enumerate(value):
            _check_meta(v, f"{where}[{i}]")
        return
    if isinstance(value, dict):
        for k, v in value.items():
            if not isinstance(k, str):
                raise TypeError(f"save_checkpoint: {where} has a key {k!r} of type {type(k).__name__}; use str keys.")
            _check_meta(v, f"{where}[{k!r}]")
        return
    hint = " (convert with .item() or .tolist())" if type(value).__module__ == "numpy" else \
        " (convert with str())" if isinstance(value, os.PathLike) else ""
    raise TypeError(f"save_checkpoint: {where} is a {type(value).__module__}.{type(value).__name__}, which a "
                    f"weights-only checkpoint cannot hold; use numbers, strings, lists, dicts or tensors{hint}.")


def save_checkpoint(model: torch.nn.Module, path: str | os.PathLike, **meta) -> str:
    """Save ``model``'s weights and ``meta`` (numbers, strings, lists, dicts, tensors) to ``path``.

    Writes ``path`` and ``path.sha256`` (each through a temporary file, so a crash never leaves half a file)
    and returns the SHA-256.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"save_checkpoint takes an nn.Module, got {type(model).__name__}.")
    _check_meta(meta)
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    tmp = path.with_name(f".{path.name}.{os.getpid()}.tmp")
    torch.save({"state_dict": state, "meta": meta}, tmp)
    digest = sha256_of(tmp)
    os.replace(tmp, path)
    sidecar = Path(str(path) + ".sha256")
    tmp = sidecar.with_name(f".{sidecar.name}.{os.getpid()}.tmp")
    tmp.write_text(f"{digest}  {path.name}\n")
    os.replace(tmp, sidecar)
    return digest


def _expected_digest(path: Path, sha256: str | None) -> str | None:
    """The digest ``path`` must have: the argument, else the registry's for a shipped checkpoint, else the sidecar."""
    if sha256 is not None:
        if not (isinstance(sha256, str) and len(sha256) == 64 and all(c in "0123456789abcdef" for c in sha256)):
            raise ValueError(f"sha256 must be 64 lowercase hex digits, not {sha256!r}.")
        return sha256
    if path.parent.resolve() == CHECKPOINT_DIR.resolve() and path.stem in REGISTRY:
        return REGISTRY[path.stem].sha256
    sidecar = Path(str(path) + ".sha256")
    if sidecar.is_file():
        return sidecar.read_text().split()[0] if sidecar.read_text().split() else ""
    return None


def load_checkpoint(model: torch.nn.Module, path: str | os.PathLike, sha256: str | None = None,
                    map_location="cpu") -> dict:
    """Load weights from ``path`` into ``model`` after checking the checksum; returns the saved meta.

    The expected SHA-256 is ``sha256`` if given; for a checkpoint that ships with the course, the one in
    ``REGISTRY``; else the one in ``path.sha256``. With none of these the file loads with a warning.
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"load_checkpoint takes an nn.Module, got {type(model).__name__}.")
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}; train the model first or run the script that makes it.")
    try:
        device = torch.device(map_location) if isinstance(map_location, (str, torch.device)) else None
    except RuntimeError:
        raise ValueError(f"map_location must name a device such as 'cpu' or 'cuda', not {map_location!r}.") from None
    if device is not None and device.type == "cuda" and not torch.cuda.is_available():
        raise ValueError(f"map_location={map_location!r}, but this machine has no CUDA device; "
                         "load with map_location='cpu' (the default) and move the model afterwards.")
    expected = _expected_digest(path, sha256)
    if expected is None:
        warnings.warn(f"{path} has no .sha256 file beside it, so it cannot be checked for damage; "
                      "save_checkpoint writes one.", stacklevel=2)
    else:
        actual = sha256_of(path)
        if actual != expected:
            raise CheckpointError(
                f"Checkpoint {path} is corrupted or was replaced: its SHA-256 is {actual[:12]}…, expected "
                f"{expected[:12]}…; delete it and make it again."
            )
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        raise CheckpointError(f"Checkpoint {path} cannot be read ({type(err).__name__}): it is not a weights-only "
                              "file saved by torch.save; delete it and make it again.") from None
    if not isinstance(saved, dict) or "state_dict" not in saved:
        raise CheckpointError(f"{path} is not a course checkpoint (no 'state_dict' inside); save it with save_checkpoint.")
    own = model.state_dict()
    state = saved["state_dict"]
    missing = sorted(set(own) - set(state))
    unexpected = sorted(set(state) - set(own))
    shapes = [f"{k}: file {tuple(state[k].shape)} vs model {tuple(own[k].shape)}"
              for k in set(own) & set(state) if state[k].shape != own[k].shape]
    if missing or unexpected or shapes:
        parts = [f"missing {missing[:3]}" if missing else "", f"unexpected {unexpected[:3]}" if unexpected else "",
                 f"shape mismatch {sorted(shapes)[:3]}" if shapes else ""]
        raise CheckpointError(
            f"Checkpoint {path} does not fit {type(model).__name__}: " + "; ".join(p for p in parts if p) + "."
        )
    bad = [k for k, v in state.items() if v.is_floating_point() and not torch.isfinite(v).all()]
    if bad:
        raise CheckpointError(f"Checkpoint {path} holds NaN or infinite weights ({bad[:3]}); it was saved from a "
                              "diverged run: train again with a lower learning rate.")
    model.load_state_dict(state)
    return saved.get("meta", {})


def checkpoint_path(name: str, folder: str | os.PathLike | None = None) -> Path:
    """Where the checkpoint ``name`` lives (``course_utils/_checkpoints/<name>.pt`` by default)."""
    if not isinstance(name, str) or not name or "/" in name or "\\" in name or name.endswith(".pt"):
        raise ValueError(f"name must be a plain checkpoint name such as 'gan_dcgan', not {name!r}.")
    return Path(folder or CHECKPOINT_DIR) / f"{name}.pt"


def has_checkpoint(name: str, folder: str | os.PathLike | None = None) -> bool:
    """True when the checkpoint file ``name`` exists (its integrity is checked when it is loaded)."""
    return checkpoint_path(name, folder).is_file()


def load_or_train(model: torch.nn.Module, name: str, train_fn: Callable[[torch.nn.Module], object], *,
                  use_checkpoint: bool = True, folder: str | os.PathLike | None = None) -> tuple[str, dict]:
    """Load checkpoint ``name`` into ``model`` if allowed and present, else run ``train_fn(model)``.

    Returns ``(message, meta)``: a sentence saying which happened (print it), and the checkpoint's
    meta (after training, ``meta`` holds ``train_seconds`` and whatever ``train_fn`` returned under ``"result"``).
    """
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"load_or_train takes an nn.Module, got {type(model).__name__}.")
    if not callable(train_fn):
        raise TypeError("train_fn must be a function that trains the model it is given.")
    if not isinstance(use_checkpoint, bool):
        raise TypeError(f"use_checkpoint must be True or False, not {use_checkpoint!r}.")
    path = checkpoint_path(name, folder)
    if use_checkpoint and path.is_file():
        meta = load_checkpoint(model, path)
        model.eval()
        digest = sha256_of(path)
        seconds = meta.get("train_seconds")
        made = f", trained for {seconds:.0f} s by scripts/make_checkpoints.py" if isinstance(seconds, (int, float)) \
            and math.isfinite(seconds) else ""
        return f"Loaded the course checkpoint '{name}' ({path.stat().st_size / 1e6:.2f} MB, sha256 {digest[:12]}…{made}).", meta
    start = time.perf_counter()
    result = train_fn(model)
    seconds = time.perf_counter() - start
    why = ("asked not to use a checkpoint: smoke mode, or a live run" if not use_checkpoint else f"no checkpoint at {path}")
    return f"Trained '{name}' from scratch in {seconds:.0f} s ({why}).", {"train_seconds": seconds, "result": result}


def registry() -> dict[str, Callable]:
    """Every checkpoint the course can make: ``{name: make_fn}``, from the modules ``REGISTRY`` names."""
    makers = {}
    for name, shipped in REGISTRY.items():
        module = importlib.import_module(shipped.module)
        table = getattr(module, "CHECKPOINTS", {})
        if name not in table:
            raise RuntimeError(f"REGISTRY says {shipped.module} makes {name!r}, but its CHECKPOINTS has {sorted(table)}.")
        makers[name] = table[name]
    return makers
