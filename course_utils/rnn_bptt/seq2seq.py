"""Sequence-to-sequence pieces for chapter 02 §4: an encoder–decoder trained with teacher forcing, and padded batches.

Introduced in chapter 02 (02_rnn_bptt §4, task shapes). The notebook trains ``EncoderDecoder`` on
``reverse_task`` there; nothing in this file trains.

- ``reverse_task``: random token sequences and their reversal (a task whose output is a whole sequence).
- ``teacher_forcing_inputs``: the decoder's inputs under teacher forcing: a start token, then the *true*
  previous target tokens.
- ``EncoderDecoder``: an RNN encoder whose final state starts an RNN decoder; ``forward`` is teacher-forced,
  ``generate`` feeds the decoder its own predictions (greedy).
- ``last_real_states``: from a padded batch's outputs, the state at each sequence's last real step.
"""

from __future__ import annotations

import torch
import torch.nn as nn


def _positive_int(name: str, value, minimum: int = 1) -> None:
    if not (type(value) is int and value >= minimum):
        raise ValueError(f"{name} must be an int >= {minimum}, not {value!r}.")


def _token_batch(name: str, tokens) -> None:
    if not isinstance(tokens, torch.Tensor) or tokens.dim() != 2 or tokens.dtype != torch.long or tokens.numel() == 0:
        shape = tuple(tokens.shape) if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"{name} must be a non-empty int64 tensor of token ids shaped (B, T), got {shape}.")


def reverse_task(batch_size: int, length: int, vocab_size: int = 8, generator: torch.Generator | None = None):
    """``(source, target)``, both (batch_size, length) int64: random tokens in [0, vocab_size) and the same reversed."""
    _positive_int("batch_size", batch_size)
    _positive_int("length", length)
    _positive_int("vocab_size", vocab_size, 2)
    if generator is not None and not isinstance(generator, torch.Generator):
        raise TypeError(f"generator must be a torch.Generator or None, not {type(generator).__name__}.")
    source = torch.randint(vocab_size, (batch_size, length), generator=generator)
    return source, source.flip(1)


def teacher_forcing_inputs(targets: torch.Tensor, start_token: int) -> torch.Tensor:
    """The decoder inputs for teacher forcing: ``start_token``, then ``targets`` shifted right by one step.

    At step t the decoder reads the true target token t - 1 (not its own guess) and must predict token t.
    """
    _token_batch("targets", targets)
    if targets.min() < 0:
        raise ValueError(f"targets must hold token ids >= 0, got {targets.min().item()}.")
    _positive_int("start_token", start_token, 0)
    start = torch.full((targets.shape[0], 1), start_token, dtype=torch.long)
    return torch.cat([start, targets[:, :-1]], dim=1)  # (B, T)


class EncoderDecoder(nn.Module):
    """Embedding -> RNN encoder; its final state h_T starts an RNN decoder -> linear head (many-to-many, another length).

    Token ``vocab_size`` is the decoder's start token (an extra row of the shared embedding).
    """

    def __init__(self, vocab_size: int, embed_dim: int = 32, hidden_dim: int = 128):
        super().__init__()
        _positive_int("vocab_size", vocab_size, 2)
        _positive_int("embed_dim", embed_dim)
        _positive_int("hidden_dim", hidden_dim)
        self.vocab_size = vocab_size
        self.embedding = nn.Embedding(vocab_size + 1, embed_dim)          # + 1: the start token
        self.encoder = nn.RNN(embed_dim, hidden_dim, batch_first=True)
        self.decoder = nn.RNN(embed_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def _encode(self, source: torch.Tensor) -> torch.Tensor:
        _token_batch("source", source)
        if source.min() < 0 or source.max() >= self.vocab_size:
            raise ValueError(f"source must hold token ids in [0, {self.vocab_size}), got {source.min()}..{source.max()}.")
        _, h = self.encoder(self.embedding(source))                      # (1, B, H): the summary of the source
        return h

    def forward(self, source: torch.Tensor, decoder_inputs: torch.Tensor) -> torch.Tensor:
        """Teacher-forced logits (B, T_out, vocab_size); ``decoder_inputs`` from ``teacher_forcing_inputs``."""
        h = self._encode(source)
        _token_batch("decoder_inputs", decoder_inputs)
        if len(decoder_inputs) != len(source):
            raise ValueError(f"decoder_inputs has {len(decoder_inputs)} sequences but source has {len(source)}.")
        if decoder_inputs.min() < 0 or decoder_inputs.max() > self.vocab_size:
            raise ValueError(f"decoder_inputs must hold token ids in [0, {self.vocab_size}] ({self.vocab_size}: the start "
                             f"token), got {decoder_inputs.min()}..{decoder_inputs.max()}.")
        out, _ = self.decoder(self.embedding(decoder_inputs), h)           # (B, T_out, H)
        return self.head(out)                                            # (B, T_out, vocab_size)

    @torch.no_grad()
    def generate(self, source: torch.Tensor, length: int) -> torch.Tensor:
        """Greedy decoding (B, length): each step's most likely token is the next step's input."""
        _positive_int("length", length)
        h = self._encode(source)
        token = torch.full((len(source), 1), self.vocab_size, dtype=torch.long)  # the start token
        tokens = []
        for _ in range(length):
            out, h = self.decoder(self.embedding(token), h)               # (B, 1, H)
            token = self.head(out).argmax(-1)                            # (B, 1): fed back as the next input
            tokens.append(token)
        return torch.cat(tokens, dim=1)


def last_real_states(output: torch.Tensor, lengths) -> torch.Tensor:
    """``output[b, lengths[b] - 1]`` for every b: the state after each sequence's last real (not padding) step.

    ``output`` is a padded, batch-first RNN output (B, T, H); ``lengths`` the true lengths (B,).
    """
    if not isinstance(output, torch.Tensor) or output.dim() != 3:
        raise ValueError(f"output must be a batch-first RNN output shaped (B, T, H), got "
                         f"{tuple(output.shape) if isinstance(output, torch.Tensor) else type(output).__name__}.")
    try:
        lengths = torch.as_tensor(lengths)
    except (TypeError, RuntimeError, ValueError) as err:
        raise TypeError(f"lengths must be a list or tensor of ints, one per sequence, not {type(lengths).__name__}.") from err
    if lengths.shape != (output.shape[0],) or lengths.is_floating_point() or lengths.dtype == torch.bool:
        raise ValueError(f"lengths must hold one int per sequence ({output.shape[0]}), got {tuple(lengths.shape)} "
                         f"{lengths.dtype}.")
    if lengths.min() < 1 or lengths.max() > output.shape[1]:
        raise ValueError(f"lengths must lie in 1..{output.shape[1]} (the padded length), got {lengths.tolist()}.")
    index = (lengths.long() - 1).view(-1, 1, 1).expand(-1, 1, output.shape[2])  # (B, 1, H)
    return output.gather(1, index).squeeze(1)                                    # (B, H)
