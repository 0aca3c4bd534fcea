"""checkpoints.load_or_train and the checkpoint registry; every committed checkpoint loads and is small."""

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
