"""checkpoints.load_or_train and the checkpoint registry; every committed checkpoint loads and is small."""

import shutil
import subprocess
import sys
from pathlib import Path

import pytest
import torch
from torch import nn

from course_utils import checkpoints

ROOT = Path(__file__).resolve().parents[2]


def _train_to_ones(model):
    with torch.no_grad():
        for p in model.parameters():
            p.fill_(1.0)
    return "done"


def test_trains_when_no_checkpoint_then_loads_it(tmp_path):
    model = nn.Linear(3, 2)
    message, meta = checkpoints.load_or_train(model, "tiny", _train_to_ones, folder=tmp_path)
    assert message.startswith("Trained 'tiny' from scratch") and meta["result"] == "done"
    checkpoints.save_checkpoint(model, checkpoints.checkpoint_path("tiny", tmp_path), train_seconds=1.5)
    fresh = nn.Linear(3, 2)
    message, meta = checkpoints.load_or_train(fresh, "tiny", lambda m: pytest.fail("must not train"), folder=tmp_path)
    assert message.startswith("Loaded the course checkpoint 'tiny'") and meta["train_seconds"] == 1.5
    assert torch.equal(fresh.weight, torch.ones(2, 3))


def test_use_checkpoint_false_always_trains(tmp_path):
    model = nn.Linear(3, 2)
    checkpoints.save_checkpoint(model, checkpoints.checkpoint_path("tiny", tmp_path))
    message, _ = checkpoints.load_or_train(model, "tiny", _train_to_ones, use_checkpoint=False, folder=tmp_path)
    assert "smoke mode" in message and torch.equal(model.weight, torch.ones(2, 3))


def test_a_tampered_checkpoint_is_refused(tmp_path):
    path = checkpoints.checkpoint_path("tiny", tmp_path)
    checkpoints.save_checkpoint(nn.Linear(3, 2), path)
    path.write_bytes(path.read_bytes() + b"x")
    with pytest.raises(checkpoints.CheckpointError, match="corrupted"):
        checkpoints.load_or_train(nn.Linear(3, 2), "tiny", _train_to_ones, folder=tmp_path)


@pytest.mark.parametrize("name", ["", "a/b", "x.pt", 3])
def test_bad_names(name):
    with pytest.raises(ValueError, match="checkpoint name"):
        checkpoints.checkpoint_path(name)


def test_registry_finds_the_classifier():
    assert "fashion_classifier" in checkpoints.registry()


def test_script_lists_checkpoints():
    out = subprocess.run([sys.executable, str(ROOT / "scripts" / "make_checkpoints.py")], capture_output=True,
                         text=True, check=True).stdout
    assert "fashion_classifier" in out


COMMITTED = sorted(checkpoints.CHECKPOINT_DIR.glob("*.pt"))


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_committed_checkpoints_are_small_checksummed_and_declared(path):
    assert path.stat().st_size <= checkpoints.MAX_BYTES
    assert Path(str(path) + ".sha256").read_text().split()[0] == checkpoints.sha256_of(path)
    assert path.stem in checkpoints.registry(), f"{path.name} is not declared in any module's CHECKPOINTS"
    saved = torch.load(path, weights_only=True)
    assert set(saved) == {"state_dict", "meta"}


@pytest.mark.parametrize("path", COMMITTED, ids=[p.stem for p in COMMITTED])
def test_registry_holds_the_digest_of_every_shipped_file(path):
    assert checkpoints.REGISTRY[path.stem].sha256 == checkpoints.sha256_of(path)


def test_every_registered_checkpoint_is_committed():
    assert sorted(checkpoints.REGISTRY) == sorted(p.stem for p in COMMITTED)


def _shipped_copy(tmp_path, monkeypatch, name="vae_conv"):
    """A copy of the checkpoint folder that the registry treats as the shipped one."""
    folder = tmp_path / "_checkpoints"
    folder.mkdir()
    for suffix in (".pt", ".pt.sha256"):
        shutil.copy(checkpoints.CHECKPOINT_DIR / f"{name}{suffix}", folder / f"{name}{suffix}")
    monkeypatch.setattr(checkpoints, "CHECKPOINT_DIR", folder)
    return folder / f"{name}.pt"


def _flip_tensor_byte(path):
    raw = bytearray(path.read_bytes())
    raw[len(raw) // 2] ^= 0x01  # inside the tensor data, so the file still unpickles
    path.write_bytes(bytes(raw))


def test_a_shipped_checkpoint_is_checked_against_the_registry_not_its_sidecar(tmp_path, monkeypatch):
    path = _shipped_copy(tmp_path, monkeypatch)
    _flip_tensor_byte(path)
    # Someone "fixes" the sidecar to match the damaged file; the registry's digest still refuses it.
    Path(str(path) + ".sha256").write_text(f"{checkpoints.sha256_of(path)}  {path.name}\n")
    with pytest.raises(checkpoints.CheckpointError, match="corrupted or was replaced"):
        checkpoints.load_checkpoint(nn.Linear(1, 1), path)


def test_a_shipped_checkpoint_without_its_sidecar_is_still_checked(tmp_path, monkeypatch):
    path = _shipped_copy(tmp_path, monkeypatch)
    Path(str(path) + ".sha256").unlink()
    _flip_tensor_byte(path)
    with pytest.raises(checkpoints.CheckpointError, match="corrupted or was replaced"):
        checkpoints.load_checkpoint(nn.Linear(1, 1), path)


def test_an_explicit_digest_wins_over_the_sidecar(tmp_path):
    path = tmp_path / "mine.pt"
    checkpoints.save_checkpoint(nn.Linear(3, 2), path)
    wrong = "0" * 64
    with pytest.raises(checkpoints.CheckpointError, match="corrupted or was replaced"):
        checkpoints.load_checkpoint(nn.Linear(3, 2), path, sha256=wrong)


def test_a_learners_checkpoint_without_digest_loads_with_a_clear_warning(tmp_path):
    path = tmp_path / "mine.pt"
    checkpoints.save_checkpoint(nn.Linear(3, 2), path)
    Path(str(path) + ".sha256").unlink()
    with pytest.warns(UserWarning, match="no .sha256 file beside it"):
        checkpoints.load_checkpoint(nn.Linear(3, 2), path)


def test_save_refuses_metadata_that_could_not_be_loaded(tmp_path):
    import numpy as np

    for bad, word in ((np.float32(0.5), "acc"), (np.zeros(3), "acc"), (Path("."), "acc"), ({1: 2}, "acc")):
        with pytest.raises(TypeError, match=word):
            checkpoints.save_checkpoint(nn.Linear(1, 1), tmp_path / "m.pt", acc=bad)
    assert not (tmp_path / "m.pt").exists()
    checkpoints.save_checkpoint(nn.Linear(1, 1), tmp_path / "m.pt", acc=0.5, curve=[1.0, 2.0], frames=torch.zeros(2),
                                nested={"a": [1, "x", None]})
    assert checkpoints.load_checkpoint(nn.Linear(1, 1), tmp_path / "m.pt")["nested"] == {"a": [1, "x", None]}


def test_cuda_on_a_cpu_machine_names_the_real_cause(tmp_path):
    if torch.cuda.is_available():
        pytest.skip("this machine has CUDA")
    path = tmp_path / "m.pt"
    checkpoints.save_checkpoint(nn.Linear(1, 1), path)
    with pytest.raises(ValueError, match="no CUDA device.*map_location='cpu'"):
        checkpoints.load_checkpoint(nn.Linear(1, 1), path, map_location="cuda")


def test_diverged_weights_are_refused(tmp_path):
    model = nn.Linear(2, 2)
    with torch.no_grad():
        model.weight[0, 0] = float("nan")
    checkpoints.save_checkpoint(model, tmp_path / "nan.pt")
    with pytest.raises(checkpoints.CheckpointError, match="NaN or infinite"):
        checkpoints.load_checkpoint(nn.Linear(2, 2), tmp_path / "nan.pt")
