"""A character-level language model: corpus, truncated-BPTT batches, the model, training, sampling, gates.

Introduced in chapter 03 (LSTM and GRU).

- ``load_corpus``: real English text that is on every machine, the documentation topics that ship inside
  CPython (``pydoc_data.topics``), cleaned the same way every time (``clean_text``); or, when online,
  tiny-shakespeare, downloaded once and verified by its SHA-256 (``download_verified``).
- ``encode`` / ``decode``: a fixed alphabet of 96 symbols (newline + printable ASCII), so a trained model
  fits every corpus and every Python version.
- ``stream_batches`` + ``detach_state``: truncated backpropagation through time. The text is cut into
  ``batch_size`` parallel streams; chunk k of every stream continues chunk k - 1, so the state can be
  carried from one chunk to the next (detached, so the gradient stops at the chunk boundary).
- ``CharLM``: embedding -> LSTM (or GRU) -> linear; ``train_charlm`` and ``evaluate_nats``.
- ``sample``: autoregressive generation with a temperature.
- ``record_gates``: the first layer's gate activations over a passage, through the from-scratch cell of
  ``course_utils.recurrent``.
"""

from __future__ import annotations

import hashlib
import math
import os
import re
import time
import urllib.error
import urllib.request
from pathlib import Path

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import runtime
from . import models

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


def python_docs_text() -> str:
    """The CPython documentation topics (``pydoc_data.topics``), in sorted order, cleaned by ``clean_text``."""
    from pydoc_data.topics import topics

    return clean_text("\n\n".join(topics[key] for key in sorted(topics)))


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
        import sys

        text = python_docs_text()
        return text, f"CPython {sys.version.split()[0]} documentation topics (pydoc_data), {len(text):,} characters"
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
        raise TypeError(f"encode takes a str, got {type(text).__name__}.")
    try:
        return torch.tensor([_INDEX[ch] for ch in text], dtype=torch.long)
    except KeyError as err:
        raise ValueError(f"character {err.args[0]!r} is not in the alphabet; pass the text through clean_text first.") from None


def decode(indices) -> str:
    """int indices -> characters."""
    return "".join(ALPHABET[int(i)] for i in indices)


def split(tokens: torch.Tensor, val_fraction: float = 0.1) -> tuple[torch.Tensor, torch.Tensor]:
    """The first ``1 - val_fraction`` of the text for training, the rest for validation (no shuffling)."""
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must lie strictly between 0 and 1, not {val_fraction!r}.")
    cut = int(len(tokens) * (1 - val_fraction))
    return tokens[:cut], tokens[cut:]


# ---------------------------------------------------------------- truncated BPTT batches

def stream_batches(tokens: torch.Tensor, batch_size: int, seq_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Chunks ``(X, Y)`` of shape (batch_size, seq_len), in order; ``Y`` is ``X`` shifted by one character.

    The text is cut into ``batch_size`` equal streams laid side by side, so row b of chunk k continues
    row b of chunk k - 1: the model's state after one chunk is the right start for the next.
    """
    if tokens.dim() != 1:
        raise ValueError(f"tokens must be one long 1-D sequence, got shape {tuple(tokens.shape)}.")
    if batch_size < 1 or seq_len < 1:
        raise ValueError(f"batch_size and seq_len must be >= 1, got {batch_size} and {seq_len}.")
    per_stream = (len(tokens) - 1) // batch_size
    if per_stream < seq_len:
        raise ValueError(f"{len(tokens)} characters are too few for {batch_size} streams of at least {seq_len + 1}.")
    X = tokens[: batch_size * per_stream].view(batch_size, per_stream)            # (B, L)
    Y = tokens[1 : batch_size * per_stream + 1].view(batch_size, per_stream)      # (B, L): the next characters
    return [(X[:, s : s + seq_len], Y[:, s : s + seq_len]) for s in range(0, per_stream - seq_len + 1, seq_len)]


def detach_state(state):
    """Keep the state's value, cut its gradient history: a tensor (RNN/GRU) or a tuple (LSTM's h and c)."""
    if state is None:
        return None
    if isinstance(state, tuple):
        return tuple(s.detach() for s in state)
    return state.detach()


# ---------------------------------------------------------------- the model

class CharLM(nn.Module):
    """Embedding -> LSTM or GRU (num_layers) -> linear over the alphabet, with dropout around the recurrence."""

    def __init__(self, vocab_size: int = len(ALPHABET), embed_dim: int = 64, hidden_dim: int = 256,
                 num_layers: int = 1, dropout: float = 0.0, cell: str = "lstm"):
        super().__init__()
        layers = {"lstm": nn.LSTM, "gru": nn.GRU, "rnn": nn.RNN}
        if cell not in layers:
            raise ValueError(f"Unknown cell {cell!r}; choose one of {', '.join(layers)}.")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.rnn = layers[cell](embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def forward(self, tokens, state=None):                 # tokens: (B, T)
        x = self.drop(self.embedding(tokens))              # (B, T, E)
        out, state = self.rnn(x, state)                    # (B, T, H), state of the last step
        return self.head(self.drop(out)), state            # (B, T, V) logits


def _check_model(model) -> None:
    if not isinstance(model, nn.Module) or not hasattr(model, "embedding") or not hasattr(model, "rnn"):
        raise TypeError(f"expected a CharLM-like model (with .embedding, .rnn, .head), got {type(model).__name__}.")


@torch.no_grad()
def evaluate_nats(model: nn.Module, tokens: torch.Tensor, batch_size: int = 16, seq_len: int = 256) -> float:
    """Mean cross-entropy in nats per character over ``tokens``, state carried through each stream."""
    _check_model(model)
    if tokens.dim() != 1 or len(tokens) < 2:
        raise ValueError(f"tokens must be a 1-D sequence of at least 2 characters, got shape {tuple(tokens.shape)}.")
    batch_size = max(1, min(batch_size, (len(tokens) - 1) // 2))
    per_stream = (len(tokens) - 1) // batch_size
    X_all = tokens[: batch_size * per_stream].view(batch_size, per_stream)        # every character but a few at the end
    Y_all = tokens[1 : batch_size * per_stream + 1].view(batch_size, per_stream)
    was_training = model.training
    model.eval()
    total, count, state = 0.0, 0, None
    for s in range(0, per_stream, seq_len):                                       # the last chunk may be shorter
        X, Y = X_all[:, s : s + seq_len], Y_all[:, s : s + seq_len]
        logits, state = model(X, state)
        total += F.cross_entropy(logits.flatten(0, 1), Y.flatten(), reduction="sum").item()
        count += Y.numel()
    model.train(was_training)
    return total / count


def train_charlm(model: nn.Module, train_tokens: torch.Tensor, val_tokens: torch.Tensor, *, num_epochs: int,
                 batch_size: int = 64, seq_len: int = 128, lr: float = 3e-3, weight_decay: float = 0.0,
                 max_norm: float = 1.0, evals_per_epoch: int = 1, seed: int = 0, log=None) -> dict:
    """Truncated-BPTT training with AdamW and a cosine learning rate; returns a history of plain lists.

    Each epoch walks the streams once from a fresh state, carrying the detached state from chunk to
    chunk. The history holds ``step``, ``train_nats`` (mean since the last evaluation), ``val_nats``
    and ``seconds`` (training time so far) at every evaluation, plus ``best_val_nats``; the weights of
    the best evaluation are restored at the end.
    """
    _check_model(model)
    if num_epochs < 1:
        raise ValueError(f"num_epochs must be >= 1, not {num_epochs!r}.")
    torch.manual_seed(seed)
    chunks = stream_batches(train_tokens, batch_size, seq_len)
    total_steps = num_epochs * len(chunks)
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=total_steps, pct_start=0.05,
                                                    anneal_strategy="cos")
    eval_every = max(1, len(chunks) // evals_per_epoch)
    history = {"step": [], "train_nats": [], "val_nats": [], "seconds": []}
    best, best_state, seconds, running = math.inf, None, 0.0, []
    step = 0
    for _ in range(num_epochs):
        model.train()
        state = None
        for i, (X, Y) in enumerate(chunks):
            start = time.perf_counter()
            logits, state = model(X, state)
            state = detach_state(state)                    # carry the value, cut the gradient
            loss = F.cross_entropy(logits.flatten(0, 1), Y.flatten())
            optimizer.zero_grad(set_to_none=True)
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), max_norm)
            optimizer.step()
            scheduler.step()
            seconds += time.perf_counter() - start
            running.append(loss.item())
            step += 1
            if (i + 1) % eval_every == 0 or i + 1 == len(chunks):
                val = evaluate_nats(model, val_tokens)
                history["step"].append(step)
                history["train_nats"].append(sum(running) / len(running))
                history["val_nats"].append(val)
                history["seconds"].append(seconds)
                running = []
                if log:
                    log(f"step {step}/{total_steps}  train {history['train_nats'][-1]:.3f}  val {val:.3f}  {seconds:.0f}s")
                if val < best:
                    best, best_state = val, {k: v.detach().clone() for k, v in model.state_dict().items()}
    if best_state is not None:
        model.load_state_dict(best_state)
    model.eval()
    history["best_val_nats"] = best
    return history


# ---------------------------------------------------------------- sampling

@torch.no_grad()
def sample(model: nn.Module, seed_text: str, num_chars: int = 200, temperature: float = 1.0,
           generator: torch.Generator | None = None) -> str:
    """Generate ``num_chars`` characters after ``seed_text``, one at a time, feeding each back in.

    The next character is drawn from ``softmax(logits / temperature)``: low temperatures sharpen the
    distribution towards the most likely character, high ones flatten it. ``temperature=0`` means
    always the most likely character (greedy).
    """
    _check_model(model)
    if isinstance(temperature, bool) or not isinstance(temperature, int | float) or not math.isfinite(temperature) \
            or temperature < 0:
        raise ValueError(f"temperature must be a finite number >= 0, not {temperature!r}.")
    if not isinstance(seed_text, str) or not seed_text:
        raise ValueError("seed_text must be a non-empty string to start from.")
    if not isinstance(num_chars, int) or num_chars < 0:
        raise ValueError(f"num_chars must be an int >= 0, not {num_chars!r}.")
    was_training = model.training
    model.eval()
    logits, state = model(encode(seed_text)[None])        # (1, T, V): read the seed
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
    model.train(was_training)
    return decode(out)


# ---------------------------------------------------------------- looking inside

@torch.no_grad()
def record_gates(model: nn.Module, text: str) -> dict[str, torch.Tensor]:
    """The first LSTM layer's gates over ``text``: {'input', 'forget', 'cell candidate', 'output', 'cell', 'hidden'}.

    Each entry is (T, H). The step-by-step loop is ``models.LSTMCell`` with the model's weights; the
    recorded hidden states are checked against the model's own ``nn.LSTM``.
    """
    _check_model(model)
    if not isinstance(model.rnn, nn.LSTM):
        raise ValueError("record_gates needs a model whose .rnn is an nn.LSTM (a GRU has no forget/output gates).")
    was_training = model.training
    model.eval()
    tokens = encode(text)[None]                            # (1, T)
    x = model.embedding(tokens)                            # (1, T, E)
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
    model.train(was_training)
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
    model = CharLM(embed_dim=c["embed_dim"], hidden_dim=c["hidden_dim"], dropout=c["dropout"])
    history = train_charlm(model, train_tokens, val_tokens, num_epochs=c["num_epochs"], batch_size=c["batch_size"],
                           seq_len=c["seq_len"], lr=c["lr"], weight_decay=c["weight_decay"], seed=0, log=print)
    meta = {"history": history, "config": dict(c), "corpus_chars": len(text),
            "corpus_sha256": hashlib.sha256(text.encode()).hexdigest(), "python": sys.version.split()[0]}
    return model, meta


CHECKPOINTS = {"charlm": _make_charlm_checkpoint}
