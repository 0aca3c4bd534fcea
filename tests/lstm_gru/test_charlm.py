"""Chapter 03's character model pieces: corpus (offline, checksum), batches, sampler, gate recording."""

import hashlib

import pytest
import torch

from course_utils.lstm_gru import charlm


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


def test_stream_batches_continue_each_other():
    tokens = torch.arange(1000) % 96
    chunks = charlm.stream_batches(tokens, batch_size=4, seq_len=10)
    (X0, Y0), (X1, _) = chunks[0], chunks[1]
    assert X0.shape == (4, 10) and torch.equal(Y0[:, :-1], X0[:, 1:])   # targets: the next character
    assert torch.equal(X1[:, 0], Y0[:, -1])                              # chunk 1 starts where chunk 0 stopped
    assert torch.equal(X0[1, 0], tokens[(len(tokens) - 1) // 4])          # row b is the b-th quarter of the text
    with pytest.raises(ValueError, match="too few"):
        charlm.stream_batches(tokens[:20], batch_size=4, seq_len=10)


def test_detach_state_cuts_the_graph():
    h = torch.ones(2, 3, requires_grad=True) * 2
    state = charlm.detach_state((h, h))
    assert all(not s.requires_grad for s in state)
    assert not charlm.detach_state(h).requires_grad and charlm.detach_state(None) is None


@pytest.fixture(scope="module")
def tiny_model():
    torch.manual_seed(0)
    model = charlm.CharLM(embed_dim=8, hidden_dim=16)
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


@pytest.mark.parametrize("bad", [-0.5, float("nan"), float("inf"), "hot", True])
def test_sampler_rejects_bad_temperatures(tiny_model, bad):
    with pytest.raises(ValueError, match="temperature"):
        charlm.sample(tiny_model, "x", 5, bad)


def test_training_lowers_the_loss_and_evaluation_is_in_nats():
    tokens = charlm.encode("abcd" * 600)
    train, val = charlm.split(tokens)
    torch.manual_seed(0)
    model = charlm.CharLM(embed_dim=8, hidden_dim=32)
    before = charlm.evaluate_nats(model, val, batch_size=2, seq_len=32)
    assert abs(before - torch.log(torch.tensor(96.0)).item()) < 0.5   # an untrained model is near uniform
    history = charlm.train_charlm(model, train, val, num_epochs=10, batch_size=4, seq_len=32, lr=1e-2)
    assert history["best_val_nats"] < 0.3 and history["val_nats"][-1] < before


def test_record_gates_matches_the_model(tiny_model):
    gates = charlm.record_gates(tiny_model, "Hello, world.")
    assert set(gates) == {"input", "forget", "cell candidate", "output", "cell", "hidden"}
    assert all(v.shape == (13, 16) for v in gates.values())
    with pytest.raises(ValueError, match="nn.LSTM"):
        charlm.record_gates(charlm.CharLM(hidden_dim=8, cell="gru"), "abc")
