"""Save and load model weights safely: ``weights_only=True`` loading and a SHA-256 checksum.

Introduced in chapter 01; the GAN and VAE chapters load course-made checkpoints with it.
``save_checkpoint`` writes ``NAME.pt`` and ``NAME.pt.sha256``; ``load_checkpoint`` refuses a file
whose checksum differs and explains a file that does not fit the model.
"""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import torch


class CheckpointError(RuntimeError):
    """A checkpoint is missing, corrupted, or does not fit the model."""


def sha256_of(path: str | os.PathLike) -> str:
    """The SHA-256 hex digest of a file."""
    h = hashlib.sha256()
    with open(path, "rb") as f:
        for chunk in iter(lambda: f.read(1 << 20), b""):
            h.update(chunk)
    return h.hexdigest()


def save_checkpoint(model: torch.nn.Module, path: str | os.PathLike, **meta) -> str:
    """Save ``model``'s weights and ``meta`` (plain numbers/strings) to ``path``; returns the SHA-256."""
    if not isinstance(model, torch.nn.Module):
        raise TypeError(f"save_checkpoint takes an nn.Module, got {type(model).__name__}.")
    path = Path(path)
    path.parent.mkdir(parents=True, exist_ok=True)
    state = {k: v.detach().cpu() for k, v in model.state_dict().items()}
    torch.save({"state_dict": state, "meta": meta}, path)
    digest = sha256_of(path)
    Path(str(path) + ".sha256").write_text(f"{digest}  {path.name}\n")
    return digest


def load_checkpoint(model: torch.nn.Module, path: str | os.PathLike, sha256: str | None = None,
                    map_location="cpu") -> dict:
    """Load weights from ``path`` into ``model`` after checking the checksum; returns the saved meta.

    The expected checksum is ``sha256`` if given, else the one in ``path.sha256`` (if that file exists).
    """
    path = Path(path)
    if not path.is_file():
        raise CheckpointError(f"No checkpoint at {path}; train the model first or run the script that makes it.")
    sidecar = Path(str(path) + ".sha256")
    expected = sha256 or (sidecar.read_text().split()[0] if sidecar.is_file() else None)
    if expected is not None:
        actual = sha256_of(path)
        if actual != expected:
            raise CheckpointError(
                f"Checkpoint {path} is corrupted or was replaced: its SHA-256 is {actual[:12]}…, expected "
                f"{expected[:12]}…; delete it and make it again."
            )
    try:
        saved = torch.load(path, map_location=map_location, weights_only=True)
    except Exception as err:  # noqa: BLE001 - any unpickling failure means a bad file
        raise CheckpointError(f"Checkpoint {path} cannot be read ({type(err).__name__}); delete it and make it again.") from None
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
    model.load_state_dict(state)
    return saved.get("meta", {})
