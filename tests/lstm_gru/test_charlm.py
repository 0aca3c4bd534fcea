"""Chapter 03's charlm: corpus (offline, checksum), alphabet, sampler, gate recording."""

import hashlib
import sys

import pytest
import torch

from course_utils import checkpoints, train
from course_utils.lstm_gru import charlm, models


def test_offline_corpus_is_clean_english(monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    text, description = charlm.load_corpus("python-docs")
    assert len(text) > 200_000 and "documentation" in description
    assert set(text) <= set(charlm.ALPHABET)
    lines = text.split("\n")
    assert "\n\n\n" not in text and not any(line and set(line) <= set("*=-~^+# ") for line in lines)  # no rule lines
    assert text.count(" the ") > 1000  # English prose, not only code
    assert charlm.decode(charlm.encode(text[:500])) == text[:500]


def test_clean_text_is_fixed():
    raw = "The “with” statement…\n*******\n\n\n\nIt’s — fine\t ok   \nµ"
    assert charlm.clean_text(raw) == 'The "with" statement...\n\nIt\'s - fine     ok\n'


def test_alphabet_and_encode_errors():
    assert len(charlm.ALPHABET) == 96 and len(set(charlm.ALPHABET)) == 96
    with pytest.raises(ValueError, match="not in the alphabet"):
        charlm.encode("café")


def test_download_verified_accepts_the_right_file_and_rejects_a_wrong_one(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")  # a file that is present must never touch the network
    path = tmp_path / "corpus.txt"
    path.write_bytes(b"to be or not to be\n")
    good = hashlib.sha256(path.read_bytes()).hexdigest()
    assert charlm.download_verified("http://invalid.example/x", path, good) == path
    with pytest.raises(ValueError, match="corrupted"):
        charlm.download_verified("http://invalid.example/x", path, "0" * 64)
    with pytest.raises(ValueError, match="64"):
        charlm.download_verified("http://invalid.example/x", path, "abc")


def test_shakespeare_is_skipped_cleanly_offline(tmp_path, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path))
    text, reason = charlm.try_load_corpus("shakespeare")
    assert text is None and "COURSE_OFFLINE" in reason
    assert len(charlm.SHAKESPEARE_SHA256) == 64
    with pytest.raises(ValueError, match="Unknown corpus"):
        charlm.load_corpus("wikipedia")


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    with torch.no_grad():
        model.head.weight.mul_(20)  # sharp, distinct logits
    return model


def test_sampler_temperature_zero_and_near_zero_is_argmax(tiny_model):
    greedy = charlm.sample(tiny_model, "The ", 40, temperature=0)
    cold = charlm.sample(tiny_model, "The ", 40, temperature=1e-4, generator=torch.Generator().manual_seed(3))
    logits, state = tiny_model(charlm.encode("The ")[None])
    manual, last = [], logits[0, -1]
    for _ in range(40):
        token = last.argmax()
        manual.append(int(token))
        logits, state = tiny_model(token.view(1, 1), state)
        last = logits[0, -1]
    assert greedy == cold == charlm.decode(manual)


def test_sampler_is_deterministic_with_a_seed_and_varies_without(tiny_model):
    a = charlm.sample(tiny_model, "x", 60, 1.5, generator=torch.Generator().manual_seed(1))
    b = charlm.sample(tiny_model, "x", 60, 1.5, generator=torch.Generator().manual_seed(1))
    c = charlm.sample(tiny_model, "x", 60, 1.5, generator=torch.Generator().manual_seed(2))
    assert a == b and a != c and len(a) == 60


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), "hot", None])
def test_sampler_rejects_bad_temperatures(tiny_model, bad):
    with pytest.raises(ValueError, match="temperature"):
        charlm.sample(tiny_model, "x", 5, bad)


def test_record_gates_matches_the_model(tiny_model):
    gates = charlm.record_gates(tiny_model, "Hello, world.")
    assert set(gates) == {"input", "forget", "cell candidate", "output", "cell", "hidden"}
    assert all(v.shape == (13, 16) for v in gates.values())
    with pytest.raises(TypeError, match="nn.LSTM"):
        charlm.record_gates(models.CharLM(hidden_dim=8, cell="gru"), "abc")


def test_sampler_and_gate_recording_run_in_eval_mode_and_restore_the_mode():
    """With dropout, a sampler or a recording left in train mode would give a different answer on every call."""
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16, dropout=0.5).train()
    greedy = [charlm.sample(model, "The ", 30, temperature=0) for _ in range(2)]
    gates = [charlm.record_gates(model, "The cat.")["hidden"] for _ in range(2)]
    assert model.training
    model.eval()
    assert greedy[0] == greedy[1] == charlm.sample(model, "The ", 30, temperature=0)
    assert torch.equal(gates[0], gates[1])


def test_sampling_draws_from_the_temperature_scaled_softmax():
    """One character at temperature t, drawn many times, follows softmax(logits / t) (not softmax(logits) / t)."""
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    with torch.no_grad():
        model.head.weight.mul_(8)
    with train.eval_mode(model):
        logits = model(charlm.encode("ab")[None])[0][0, -1].double()
    g = torch.Generator().manual_seed(0)
    for temperature in (0.5, 2.0):
        draws = [charlm.encode(charlm.sample(model, "ab", 1, temperature, generator=g)).item() for _ in range(1500)]
        freq = torch.bincount(torch.tensor(draws), minlength=96).double() / len(draws)
        expected = torch.softmax(logits / temperature, dim=-1)
        assert (freq - expected).abs().max() < 0.05, temperature


def test_the_corpus_is_the_shipped_text_on_every_python():
    text, description = charlm.load_corpus("python-docs")
    assert hashlib.sha256(text.encode()).hexdigest() == charlm.CORPUS_SHA256
    assert len(text) == 449_440 and "CPython 3.11.7" in description


@pytest.mark.skipif(sys.version_info[:3] != (3, 11, 7), reason="the shipped corpus was made from CPython 3.11.7")
def test_the_shipped_corpus_is_cpython_3_11_7s_pydoc_topics():
    assert charlm.pydoc_topics_text() == charlm.python_docs_text()


def test_the_checkpoint_was_trained_on_the_shipped_corpus():
    meta = torch.load(checkpoints.checkpoint_path("charlm"), weights_only=True)["meta"]
    assert meta["corpus_sha256"] == charlm.CORPUS_SHA256


def test_a_damaged_corpus_is_refused(tmp_path, monkeypatch):
    import gzip

    bad = tmp_path / "corpus.txt.gz"
    bad.write_bytes(gzip.compress(b"not the corpus"))
    monkeypatch.setattr(charlm, "CORPUS_FILE", bad)
    with pytest.raises(ValueError, match="is damaged"):
        charlm.load_corpus("python-docs")
