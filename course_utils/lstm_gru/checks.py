"""Auto-checks for chapter 03's exercises (``03_lstm_gru``, Exercises 1-3): call one on your answer, read "passed" or a hint.

Introduced in chapter 03 (LSTM and GRU). Each check returns True/False and prints one line. Through
``course_utils.checks.exercise``, an answer that is missing (``None``) or still raises ``NotImplementedError`` is
"not yet solved", and any other error raised while checking it is printed as a hint naming it: a check never crashes.
"""

from __future__ import annotations

import itertools
import numbers

import numpy as np
import torch
import torch.nn as nn

from ..checks import exercise, report
from . import models

TITLE_COUNT, TITLE_FORGET, TITLE_CAUSAL = "character model parameters", "forget-gate bias", "causality test"


@exercise(TITLE_COUNT)
def check_charlm_param_count(fn) -> bool:
    """Exercise 03.1: ``fn(vocab_size, embed_dim, hidden_dim, num_layers, cell)`` counts a CharLM's parameters."""
    title = TITLE_COUNT
    cases = list(itertools.product([96, 10], [8, 64], [16, 128], [1, 2, 3], ["lstm", "gru"]))
    for V, E, H, L, cell in cases:
        model = models.CharLM(V, E, H, num_layers=L, cell=cell)
        truth = sum(p.numel() for p in model.parameters())
        got = fn(V, E, H, L, cell)
        if isinstance(got, bool) or not isinstance(got, numbers.Integral):
            return report(title, False, f"charlm_param_count must return an int, but for vocab {V}, embedding {E}, "
                                        f"hidden {H}, {L} layer(s), {cell} it returned {type(got).__name__} {got!r:.40}.")
        if got == truth:
            continue
        k = 4 if cell == "lstm" else 3
        rec = sum(p.numel() for p in model.rnn.parameters())
        case = f"vocab {V}, embedding {E}, hidden {H}, {L} layer(s), {cell}"
        if got == truth - V * E:
            hint = "you forgot the embedding table (vocab_size x embed_dim)."
        elif got == truth - H * V - V or got == truth - H * V:
            hint = "add the head: a linear layer hidden_dim -> vocab_size, with its bias."
        elif got == truth - k * H * L:
            hint = "PyTorch keeps two bias vectors per gate block: 2H per block, not H."
        elif L > 1 and got == truth - rec + L * k * (H * E + H * H + 2 * H):
            hint = "layers after the first read the hidden state of the layer below: their input size is hidden_dim, not embed_dim."
        elif got == truth - rec + rec // k * (7 - k):
            hint = "an LSTM has 4 gate blocks (i, f, g, o) and a GRU 3 (r, z, n)."
        else:
            hint = "embedding V*E + per layer k*(H*D + H*H + 2H) + head H*V + V, with k = 4 (LSTM) or 3 (GRU)."
        return report(title, False, f"for {case} the model has {truth:,} parameters, your formula says {got}; {hint}")
    return report(title, True, f"your formula matches numel() for all {len(cases)} LSTM and GRU configurations.")


@exercise(TITLE_FORGET)
def check_forget_bias(fn) -> bool:
    """Exercise 03.2: ``fn(lstm, value)`` sets the forget-gate biases of every layer so that they add up to ``value``."""
    title = TITLE_FORGET
    for layers, H, value in [(1, 5, 1.0), (2, 3, 2.5), (3, 4, -1.0)]:
        torch.manual_seed(0)
        lstm = nn.LSTM(2, H, num_layers=layers)
        before = {n: p.detach().clone() for n, p in lstm.named_parameters()}
        fn(lstm, value)
        now = dict(lstm.named_parameters())
        if set(now) != set(before) or any(now[n].shape != before[n].shape for n in before):
            return report(title, False, "change the values of the LSTM's biases in place (with torch.no_grad()), "
                                        "not its parameters themselves: their names and shapes must stay.")
        for layer in range(layers):
            b_ih, b_hh = getattr(lstm, f"bias_ih_l{layer}").detach(), getattr(lstm, f"bias_hh_l{layer}").detach()
            total = b_ih + b_hh
            if torch.allclose(total[:H], torch.full((H,), value)) and not torch.allclose(total[H : 2 * H], torch.full((H,), value)):
                return report(title, False, "you set the first block, which is the input gate: PyTorch orders the blocks i, f, g, o, "
                                            "so the forget gate is [H:2H].")
            if torch.allclose(total[H : 2 * H], torch.full((H,), 2 * value)):
                return report(title, False, "the two bias vectors are added, so together they must give `value`: "
                                            "set one to value and the other to 0 in the forget block.")
            if not torch.allclose(total[H : 2 * H], torch.full((H,), value)):
                return report(title, False, f"in layer {layer} of a {layers}-layer LSTM the forget biases add up to "
                                            f"{total[H:2 * H].mean():.2f} on average, not {value}: bias_ih and bias_hh are added, so "
                                            "set both forget blocks (e.g. value and 0), in every layer.")
            for name in (f"bias_ih_l{layer}", f"bias_hh_l{layer}"):
                now = getattr(lstm, name).detach()
                keep = torch.cat([torch.arange(H), torch.arange(2 * H, 4 * H)])
                if not torch.equal(now[keep], before[name][keep]):
                    return report(title, False, f"{name} changed outside the forget block; leave the i, g and o biases as they were.")
        if any(not torch.equal(p.detach(), before[n]) for n, p in lstm.named_parameters() if "weight" in n):
            return report(title, False, "the weights changed; only the biases of the forget block should.")
    return report(title, True, "forget-gate biases add up to the value in every layer, and nothing else changed.")


class _Causal(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(96, 8)
        self.rnn = nn.GRU(8, 8, batch_first=True)
        self.head = nn.Linear(8, 96)

    def forward(self, tokens):
        return self.head(self.rnn(self.embedding(tokens))[0])


class _Peeking(_Causal):
    """Causal except that position t also sees token t + 1 (a one-step leak)."""

    def forward(self, tokens):
        ahead = torch.cat([tokens[:, 1:], tokens[:, -1:]], dim=1)
        return self.head(self.rnn(self.embedding(tokens) + self.embedding(ahead))[0])


class _Bidirectional(nn.Module):
    def __init__(self):
        super().__init__()
        self.embedding = nn.Embedding(96, 8)
        self.rnn = nn.LSTM(8, 8, batch_first=True, bidirectional=True)
        self.head = nn.Linear(16, 96)

    def forward(self, tokens, state=None):
        out, state = self.rnn(self.embedding(tokens), state)
        return self.head(out), state


@exercise(TITLE_CAUSAL)
def check_is_causal(fn) -> bool:
    """Exercise 03.3: ``fn(model)`` is True exactly when no output depends on a later input."""
    title = TITLE_CAUSAL
    torch.manual_seed(0)
    cases = [("a one-direction GRU", _Causal(), True), ("a bidirectional LSTM returning (logits, state)", _Bidirectional(), False),
             ("a model that peeks exactly one character ahead", _Peeking(), False)]
    for name, model, truth in cases:
        model.train()
        got = fn(model)
        if not model.training:
            return report(title, False, f"is_causal left {name} in eval mode; it found it in train mode. Switch to eval for "
                                        "the test and back afterwards (e.g. with train.eval_mode(model)).")
        if not isinstance(got, bool | np.bool_ | torch.Tensor) or (isinstance(got, torch.Tensor) and got.numel() != 1):
            return report(title, False, f"is_causal must return True or False, but for {name} it returned "
                                        f"{type(got).__name__} {got!r:.40}.")
        if bool(got) != truth:
            hint = ("change only the inputs *after* position t and compare the outputs at positions <= t."
                    if truth else "change the inputs after t (all of them, and also just the next one) and compare "
                    "outputs up to t with a tolerance such as 1e-5.")
            return report(title, False, f"for {name} the answer is {truth}, yours {got!r}; {hint}")
    return report(title, True, "tells causal from bidirectional and from a one-step leak.")
