import pytest
import torch
import torch.nn as nn

from course_utils import checkpoints


def test_round_trip_and_meta(tmp_path):
    torch.manual_seed(0)
    a, b = nn.Linear(4, 3), nn.Linear(4, 3)
    digest = checkpoints.save_checkpoint(a, tmp_path / "m.pt", epochs=3, note="hi")
    assert (tmp_path / "m.pt.sha256").read_text().split() == [digest, "m.pt"]
    meta = checkpoints.load_checkpoint(b, tmp_path / "m.pt")
    assert meta == {"epochs": 3, "note": "hi"}
    assert all(torch.equal(p, q) for p, q in zip(a.parameters(), b.parameters()))
    checkpoints.load_checkpoint(b, tmp_path / "m.pt", sha256=digest)


def test_corrupted_file_is_refused(tmp_path):
    checkpoints.save_checkpoint(nn.Linear(4, 3), tmp_path / "m.pt")
    raw = bytearray((tmp_path / "m.pt").read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    (tmp_path / "m.pt").write_bytes(bytes(raw))
    with pytest.raises(checkpoints.CheckpointError, match="corrupted or was replaced"):
        checkpoints.load_checkpoint(nn.Linear(4, 3), tmp_path / "m.pt")
    (tmp_path / "m.pt.sha256").unlink()  # without a checksum the damage shows up when reading
    (tmp_path / "m.pt").write_bytes(b"garbage")
    with pytest.raises(checkpoints.CheckpointError, match="cannot be read"):
        checkpoints.load_checkpoint(nn.Linear(4, 3), tmp_path / "m.pt")


def test_mismatched_model_is_explained(tmp_path):
    checkpoints.save_checkpoint(nn.Linear(4, 3), tmp_path / "m.pt")
    with pytest.raises(checkpoints.CheckpointError, match=r"does not fit Linear: shape mismatch .*weight: file \(3, 4\) vs model \(5, 4\)"):
        checkpoints.load_checkpoint(nn.Linear(4, 5), tmp_path / "m.pt")
    with pytest.raises(checkpoints.CheckpointError, match="missing"):
        checkpoints.load_checkpoint(nn.Sequential(nn.Linear(4, 3)), tmp_path / "m.pt")


def test_missing_and_foreign_files(tmp_path):
    with pytest.raises(checkpoints.CheckpointError, match="No checkpoint at"):
        checkpoints.load_checkpoint(nn.Linear(1, 1), tmp_path / "none.pt")
    torch.save({"weights": torch.zeros(1)}, tmp_path / "other.pt")
    with pytest.raises(checkpoints.CheckpointError, match="not a course checkpoint"):
        checkpoints.load_checkpoint(nn.Linear(1, 1), tmp_path / "other.pt")
    with pytest.raises(TypeError, match="takes an nn.Module"):
        checkpoints.save_checkpoint({"w": 1}, tmp_path / "x.pt")
