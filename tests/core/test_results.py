"""results.record: a no-op without COURSE_RESULTS, a JSON merge with it, clear errors on bad input."""

import json

import numpy as np
import pytest
import torch

from course_utils import results


def test_record_returns_value_and_writes_nothing_without_env(monkeypatch, tmp_path):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    assert results.record("cnn_test_accuracy", 0.91) == 0.91
    assert list(tmp_path.iterdir()) == []


def test_record_merges_numbers_and_dicts(monkeypatch, tmp_path):
    path = tmp_path / "sub" / "r.json"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    results.record("a_number", torch.tensor(0.5), unit="acc")
    results.record("per_distance", {5: np.float32(1.0), 10: 0.25})
    results.record("a_number", 0.75, unit="acc")  # overwrites, keeps the other key
    stored = json.loads(path.read_text())
    assert stored["a_number"] == {"value": 0.75, "unit": "acc", "note": ""}
    assert stored["per_distance"]["value"] == {"5": 1.0, "10": 0.25}


@pytest.mark.parametrize("key", ["Bad Key", "1st", "", None])
def test_record_rejects_bad_keys(key):
    with pytest.raises(ValueError, match="snake_case"):
        results.record(key, 1.0)


@pytest.mark.parametrize("value", [float("nan"), "0.9", True, {}, {"a": float("inf")}, [1.0]])
def test_record_rejects_bad_values(value):
    with pytest.raises(ValueError):
        results.record("x", value)


_RECORD_MANY = """
import sys
from course_utils import results
for i in range(40):
    results.record(f"{sys.argv[1]}_{i}", i)
"""


def test_concurrent_records_keep_every_entry(monkeypatch, tmp_path):
    import os
    import subprocess
    import sys

    path = tmp_path / "r.json"
    env = {**os.environ, results.RESULTS_ENV: str(path)}
    procs = [subprocess.Popen([sys.executable, "-c", _RECORD_MANY, name], env=env, stderr=subprocess.PIPE, text=True)
             for name in ("first", "second", "third")]
    errors = [p.communicate(timeout=120)[1] for p in procs]
    assert all(p.returncode == 0 for p in procs), errors
    stored = json.loads(path.read_text())
    assert len(stored) == 3 * 40 and stored["second_39"]["value"] == 39.0


def test_a_corrupted_results_file_is_named(monkeypatch, tmp_path):
    path = tmp_path / "r.json"
    path.write_text("{ not json")
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    with pytest.raises(ValueError, match="not valid JSON"):
        results.record("a_number", 1.0)


def test_a_true_claim_prints_and_is_counted(monkeypatch, tmp_path, capsys):
    path = tmp_path / "r.json"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    monkeypatch.setenv("COURSE_SMOKE", "0")
    assert results.claim("the loss falls", 0.3 < 0.9, detail="0.90 -> 0.30") is True
    assert "claim holds: the loss falls [0.90 -> 0.30]" in capsys.readouterr().out
    assert json.loads(path.read_text())["claims"] == {"checked": 1, "failed": 0, "failures": []}


def test_a_false_claim_stops_a_full_run_and_names_the_sentence(monkeypatch, tmp_path):
    path = tmp_path / "r.json"
    monkeypatch.setenv(results.RESULTS_ENV, str(path))
    monkeypatch.setenv("COURSE_SMOKE", "0")
    with pytest.raises(results.ClaimFailed, match="The text says: 'the GRU is faster'.*2.7 s vs 6.3 s"):
        results.claim("the GRU is faster", 6.3 < 2.7, detail="2.7 s vs 6.3 s per epoch")
    assert json.loads(path.read_text())["claims"] == {"checked": 1, "failed": 1, "failures": ["the GRU is faster"]}


def test_a_false_claim_in_smoke_mode_is_only_reported(monkeypatch, capsys):
    monkeypatch.delenv(results.RESULTS_ENV, raising=False)
    monkeypatch.setenv("COURSE_SMOKE", "1")
    assert results.claim("every seed solves distance 30", False) is False
    assert "DOES NOT HOLD (smoke run: not enforced)" in capsys.readouterr().out


def test_claims_take_booleans_only(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    assert results.claim("a tensor comparison", torch.tensor(1.0) > 0) is True
    with pytest.raises(TypeError, match="holds must be True or False"):
        results.claim("a number is not a verdict", 0.93)
    with pytest.raises(ValueError, match="statement must be"):
        results.claim("", True)
    with pytest.raises(ValueError, match="reserved"):
        results.record("claims", 1.0)
