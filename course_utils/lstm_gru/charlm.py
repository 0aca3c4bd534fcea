"""The character-level language model's text and what it does with it: corpus, alphabet, sampling, gates.

Introduced in chapter 03 (LSTM and GRU), §6-§9. The model itself is ``models.CharLM``; its training loop
(truncated BPTT) is ``training.fit_charlm``.

- ``load_corpus``: real English text that is on every machine: CPython 3.11.7's documentation topics
  (``pydoc_data.topics``, cleaned by ``clean_text``), shipped with the course and checked by its SHA-256, so
  every Python version trains and validates on the same text; or, when online, tiny-shakespeare, downloaded
  once and verified by its SHA-256 (``download_verified``).
- ``encode`` / ``decode``: a fixed alphabet of 96 symbols (newline + printable ASCII), so a trained model
  fits every corpus and every Python version; ``split`` keeps the last 10 % for validation.
- ``sample``: autoregressive generation with a temperature (shown in ``03_lstm_gru`` §8).
- ``record_gates``: the first layer's gate activations over a passage, through ``models.LSTMCell`` with the
  model's weights (§9).
- ``CHECKPOINTS["charlm"]``: the chapter's character model, trained by ``training.fit_charlm`` with
  ``CHARLM_CONFIG`` (``python scripts/make_checkpoints.py charlm``).
"""

from __future__ import annotations

import gzip
import hashlib
import math
import operator
import os
import re
import urllib.error
import urllib.request
from pathlib import Path

import torch
import torch.nn as nn

from .. import runtime, train
from . import models, training

ALPHABET = "\n" + "".join(chr(c) for c in range(32, 127))  # 96 symbols: newline and printable ASCII
_INDEX = {ch: i for i, ch in enumerate(ALPHABET)}
_TYPOGRAPHY = {"‘": "'", "’": "'", "“": '"', "”": '"', "–": "-", "—": "-", "…": "...", "ß": "ss", "\t": "    "}
_RULE = re.compile(r"^[ *=\-~^+#]{3,}$")  # reST heading underlines and table borders

SHAKESPEARE_URL = "https://raw.githubusercontent.com/karpathy/char-rnn/master/data/tinyshakespeare/input.txt"
SHAKESPEARE_SHA256 = "86c4e6aa9db7c042ec79f339dcb96d42b0075e16b8fc2e86bf0ca57e2dc565ed"  # 1,115,394 bytes
OFFLINE_ENV = "COURSE_OFFLINE"


# ---------------------------------------------------------------- corpus

def clean_text(text: str) -> str:
    """The corpus cleaning, fixed: typographic marks to ASCII, other non-ASCII dropped, rule lines removed.

    Lines made only of ``*=-~^+#`` (reST underlines, table borders) are dropped, trailing spaces are
    stripped, and runs of blank lines shrink to one blank line.
    """
    if not isinstance(text, str):
        raise TypeError(f"clean_text takes a str, got {type(text).__name__}.")
    for mark, plain in _TYPOGRAPHY.items():
        text = text.replace(mark, plain)
    text = "".join(ch for ch in text if ch in _INDEX)
    lines = [line.rstrip() for line in text.split("\n")]
    text = "\n".join(line for line in lines if not _RULE.match(line.strip()) or not line.strip())
    return re.sub(r"\n{3,}", "\n\n", text).strip("\n") + "\n"


# The corpus ships with the course (course_utils/_data/charlm_corpus, with its source and licence): the running
# Python's own pydoc_data differs between versions (3.13 has other topics), and the checkpoint and its held-out
# validation split must be the same on every machine.
CORPUS_FILE = Path(__file__).resolve().parents[1] / "_data" / "charlm_corpus" / "python_docs_3.11.7.txt.gz"
CORPUS_SHA256 = "a66efb03371c59da5d41998bce4076432df02f443edaafb70047be0b79faa857"  # of the decompressed text


def pydoc_topics_text() -> str:
    """The running Python's documentation topics (``pydoc_data.topics``), sorted, joined, cleaned by ``clean_text``.

    On CPython 3.11.7 this is exactly the shipped corpus (a test checks it); other versions give other text.
    """
    from pydoc_data.topics import topics

    return clean_text("\n\n".join(topics[key] for key in sorted(topics)))


def python_docs_text() -> str:
    """The course's corpus: CPython 3.11.7's documentation topics, cleaned, as shipped; its SHA-256 is checked."""
    raw = gzip.decompress(CORPUS_FILE.read_bytes())
    digest = hashlib.sha256(raw).hexdigest()
    if digest != CORPUS_SHA256:
        raise ValueError(f"{CORPUS_FILE} is damaged: its text has SHA-256 {digest[:12]}…, expected "
                         f"{CORPUS_SHA256[:12]}…; reinstall course_utils.")
    return raw.decode("utf-8")


def download_verified(url: str, path: str | os.PathLike, sha256: str, timeout: float = 20.0) -> Path:
    """``path`` if its SHA-256 is ``sha256``; else download ``url`` to it first. Raises on a wrong checksum.

    A file with a wrong checksum (a corrupted or changed download) is never used: ``ValueError`` says
    which file and which checksums. Network problems raise ``OSError``.
    """
    path = Path(path)
    if not re.fullmatch(r"[0-9a-f]{64}", str(sha256)):
        raise ValueError(f"sha256 must be 64 lowercase hex digits, not {sha256!r}.")
    if not path.is_file():
        if runtime.offline():
            raise OSError(f"{path} is missing and {OFFLINE_ENV}=1 forbids downloading it.")
        path.parent.mkdir(parents=True, exist_ok=True)
        partial = path.with_name(path.name + ".part")
        with urllib.request.urlopen(url, timeout=timeout) as response:
            partial.write_bytes(response.read())
        partial.replace(path)
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != sha256:
        raise ValueError(f"{path} has SHA-256 {actual[:12]}..., expected {sha256[:12]}...: the file is corrupted or "
                         "not the one the course expects; delete it and try again.")
    return path


def load_corpus(name: str = "python-docs") -> tuple[str, str]:
    """``(text, description)`` of a corpus: ``"python-docs"`` (offline, always there) or ``"shakespeare"``.

    ``"shakespeare"`` is downloaded into the course cache once, checked against ``SHAKESPEARE_SHA256``,
    and raises ``OSError`` when offline (or when ``COURSE_OFFLINE=1``).
    """
    if name == "python-docs":
        text = python_docs_text()
        return text, f"CPython 3.11.7 documentation topics (pydoc_data), {len(text):,} characters"
    if name == "shakespeare":
        path = download_verified(SHAKESPEARE_URL, runtime.cache_dir() / "tinyshakespeare.txt", SHAKESPEARE_SHA256)
        text = clean_text(path.read_text(encoding="utf-8"))
        return text, f"tiny-shakespeare (SHA-256 verified), {len(text):,} characters"
    raise ValueError(f"Unknown corpus {name!r}; choose 'python-docs' or 'shakespeare'.")


def try_load_corpus(name: str) -> tuple[str | None, str]:
    """Like ``load_corpus`` but returns ``(None, reason)`` instead of raising when the network is unavailable."""
    try:
        return load_corpus(name)
    except (OSError, urllib.error.URLError) as err:
        return None, f"{name} not available ({type(err).__name__}: {err})"


def encode(text: str) -> torch.Tensor:
    """Characters -> int64 indices into ``ALPHABET``; a character outside it raises."""
    if not isinstance(text, str):
        raise TypeError(f"text must be a str, not {type(text).__name__}.")
    try:
        return torch.tensor([_INDEX[ch] for ch in text], dtype=torch.long)
    except KeyError as err:
        raise ValueError(f"character {err.args[0]!r} of text is not in the alphabet; pass the text through clean_text first.") from None


def decode(indices) -> str:
    """int indices (a 1-D tensor or a list) -> characters."""
    try:
        if isinstance(indices, torch.Tensor) and (indices.dim() != 1 or indices.is_floating_point()):
            raise TypeError
        values = [operator.index(i) for i in (indices.tolist() if isinstance(indices, torch.Tensor) else indices)]
    except TypeError:
        raise TypeError(f"indices must be a 1-D integer tensor or a list of ints, not {_describe(indices)}.") from None
    if not all(0 <= i < len(ALPHABET) for i in values):
        raise ValueError(f"indices must lie in 0..{len(ALPHABET) - 1}, got {min(values)}..{max(values)}.")
    return "".join(ALPHABET[i] for i in values)


def split(tokens: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``1 - val_fraction`` of the text for training, the rest for validation (no shuffling)."""
    if not (isinstance(tokens, torch.Tensor) and tokens.dim() == 1 and len(tokens) >= 2):
        raise ValueError(f"tokens must be a 1-D tensor of at least 2 character indices (encode(text)), not {_describe(tokens)}.")
    if not (isinstance(val_fraction, int | float) and 0 < val_fraction < 1):
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, not {val_fraction!r}.")
    cut = int(len(tokens) * (1 - val_fraction))
    return tokens[:cut], tokens[cut:]


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"a tensor of shape {tuple(value.shape)} and dtype {value.dtype}"
    return f"a {type(value).__name__}"


# ---------------------------------------------------------------- sampling

def _check_sample_args(seed_text, num_chars, temperature) -> None:
    if not (isinstance(seed_text, str) and seed_text and isinstance(num_chars, int) and num_chars >= 0
            and isinstance(temperature, int | float) and 0 <= temperature < math.inf):
        raise ValueError(f"sample needs a non-empty seed_text, an int num_chars >= 0 and a finite temperature >= 0, "
                         f"got seed_text={seed_text!r}, num_chars={num_chars!r}, temperature={temperature!r}.")


def sample(model: nn.Module, seed_text: str, num_chars: int = 200, temperature: float = 1.0,
           generator: torch.Generator | None = None) -> str:
    """Generate ``num_chars`` characters after ``seed_text``, one at a time, feeding each back in.

    The next character is drawn from ``softmax(logits / temperature)``: low temperatures sharpen the
    distribution towards the most likely character, high ones flatten it. ``temperature=0`` means
    always the most likely character (greedy).
    """
    _check_sample_args(seed_text, num_chars, temperature)
    with train.eval_mode(model):
        logits, state = model(encode(seed_text)[None])    # (1, T, V): read the seed
        last = logits[0, -1]
        out = []
        for _ in range(num_chars):
            if temperature == 0:
                token = last.argmax()
            else:
                probs = torch.softmax(last.double() / temperature, dim=-1)
                token = torch.multinomial(probs, 1, generator=generator)[0]
            out.append(int(token))
            logits, state = model(token.view(1, 1), state)
            last = logits[0, -1]
    return decode(out)


# ---------------------------------------------------------------- looking inside

def record_gates(model: nn.Module, text: str) -> dict[str, torch.Tensor]:
    """The first LSTM layer's gates over ``text``: {'input', 'forget', 'cell candidate', 'output', 'cell', 'hidden'}.

    Each entry is (T, H). The step-by-step loop is ``models.LSTMCell`` with the model's weights; the
    recorded hidden states are checked against the model's own ``nn.LSTM``.
    """
    if not (isinstance(getattr(model, "rnn", None), nn.LSTM) and isinstance(getattr(model, "embedding", None), nn.Embedding)):
        raise TypeError(f"model must have an .embedding and an nn.LSTM as .rnn (a GRU has no forget or output gate), "
                        f"not {type(model).__name__} with .rnn = {type(getattr(model, 'rnn', None)).__name__}.")
    if not (isinstance(text, str) and text):
        raise ValueError(f"text must be a non-empty str, not {text!r}.")
    tokens = encode(text)[None]                            # (1, T)
    with train.eval_mode(model):
        x = model.embedding(tokens)                        # (1, T, E)
        cell = models.LSTMCell.from_torch(model.rnn, layer=0)
        h = c = x.new_zeros(1, model.rnn.hidden_size)
        rows = {name: [] for name in models.LSTM_GATES + ("cell", "hidden")}
        for t in range(x.shape[1]):
            (h, c), gates = cell(x[:, t], (h, c), return_gates=True)
            for name, value in gates.items():
                rows[name].append(value[0])
            rows["cell"].append(c[0])
            rows["hidden"].append(h[0])
        recorded = {name: torch.stack(values) for name, values in rows.items()}   # each (T, H)
        first_layer = nn.LSTM(x.shape[-1], model.rnn.hidden_size, batch_first=True)
        first_layer.load_state_dict({k: v for k, v in model.rnn.state_dict().items() if k.endswith("_l0")})
        if not torch.allclose(recorded["hidden"], first_layer(x)[0][0], atol=1e-4):
            raise RuntimeError("the recorded hidden states differ from nn.LSTM's; the cell and the model disagree.")
    return recorded


# ---------------------------------------------------------------- the course checkpoint

CHARLM_CONFIG = {"embed_dim": 64, "hidden_dim": 512, "dropout": 0.25, "num_epochs": 9, "batch_size": 16,
                 "seq_len": 64, "lr": 4e-3, "weight_decay": 0.05}


def _make_charlm_checkpoint():
    """The chapter's character model, trained from scratch on the offline corpus (full size, seeded)."""
    import sys

    text = python_docs_text()
    train_tokens, val_tokens = split(encode(text))
    c = CHARLM_CONFIG
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=c["embed_dim"], hidden_dim=c["hidden_dim"], dropout=c["dropout"])
    history = training.fit_charlm(model, train_tokens, val_tokens, num_epochs=c["num_epochs"],
                                  batch_size=c["batch_size"], seq_len=c["seq_len"], lr=c["lr"],
                                  weight_decay=c["weight_decay"], seed=0, log=print)
    meta = {"history": history, "config": dict(c), "corpus_chars": len(text),
            "corpus_sha256": hashlib.sha256(text.encode()).hexdigest(), "python": sys.version.split()[0]}
    return model, meta


CHECKPOINTS = {"charlm": _make_charlm_checkpoint}
