"""Chapter 03's models: the LSTM cell from its gate equations, the long-range models, the character model.

Introduced in chapter 03 (LSTM and GRU).

- ``LSTMCell``: one LSTM step, the equations line by line. Written out in ``03_lstm_gru`` §1 (the notebook's
  own ``LSTMCell``, checked against ``nn.LSTM``); asserted equal to this one in §3, the cell after the parameter
  table. ``charlm.record_gates`` runs it with a trained model's weights to record every gate.
- ``layer_param_count``: the parameters of one recurrent layer by formula (§3, asserted against the notebook's
  ``layer_params``).
- ``LastStepModel``: [embedding] -> RNN / LSTM / GRU -> a linear head on the last state (§4, the long-range
  experiments of ``longrange``); ``gate_bias`` opens the forget (LSTM) or update (GRU) gate at the start with
  ``open_memory_gate`` (§4's remedy; exercise 2 writes the LSTM half).
- ``CharLM``: embedding -> LSTM (or GRU) -> linear over the alphabet (§6-§9, trained by ``training.fit_charlm``).

Weights are laid out as in PyTorch, so they can be copied over: the four LSTM blocks are stacked in the order
input, forget, cell candidate, output (i, f, g, o). The notebook writes its GRU cell in §2 and checks it against
``nn.GRU`` itself; the package needs no copy of it.
"""

from __future__ import annotations

import torch
import torch.nn as nn

LSTM_GATES = ("input", "forget", "cell candidate", "output")
GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}
LAYERS = {"rnn": nn.RNN, "gru": nn.GRU, "lstm": nn.LSTM}
VOCAB_SIZE = 96  # len(charlm.ALPHABET): newline and printable ASCII (a test keeps the two equal)


def _positive_ints(**sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, not {value!r}.")


class LSTMCell(nn.Module):
    """One LSTM step: gates from x_t and h_{t-1}; c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t)."""

    def __init__(self, input_dim: int, hidden_dim: int):
        super().__init__()
        _positive_ints(input_dim=input_dim, hidden_dim=hidden_dim)
        self.input_dim, self.hidden_dim = input_dim, hidden_dim
        self.W_x = nn.Parameter(torch.randn(4 * hidden_dim, input_dim) / input_dim**0.5)     # (4H, D)
        self.W_h = nn.Parameter(torch.randn(4 * hidden_dim, hidden_dim) / hidden_dim**0.5)   # (4H, H)
        self.b = nn.Parameter(torch.zeros(4 * hidden_dim))                                  # (4H,)

    def forward(self, x, state, return_gates: bool = False):  # x: (B, D), state: ((B, H), (B, H))
        if not (isinstance(state, (tuple, list)) and len(state) == 2):
            raise TypeError(f"state must be a pair (h, c) of (B, {self.hidden_dim}) tensors, not {_describe(state)}.")
        h, c = state
        z_i, z_f, z_g, z_o = (x @ self.W_x.T + h @ self.W_h.T + self.b).chunk(4, dim=1)  # 4 x (B, H)
        i, f, g, o = torch.sigmoid(z_i), torch.sigmoid(z_f), torch.tanh(z_g), torch.sigmoid(z_o)
        c = f * c + i * g                  # the additive cell update
        h = o * torch.tanh(c)
        if return_gates:
            return (h, c), dict(zip(LSTM_GATES, (i, f, g, o)))
        return h, c

    @classmethod
    def from_torch(cls, lstm: nn.LSTM, layer: int = 0) -> LSTMCell:
        """A cell holding layer ``layer`` of ``lstm``'s weights (its two bias vectors summed)."""
        if not isinstance(lstm, nn.LSTM) or lstm.proj_size or lstm.bidirectional:
            raise TypeError(f"lstm must be a one-direction nn.LSTM without projections, not {_describe(lstm)}.")
        if isinstance(layer, bool) or not isinstance(layer, int) or not 0 <= layer < lstm.num_layers:
            raise ValueError(f"layer must be an int in [0, {lstm.num_layers}), not {layer!r}.")
        w_x = getattr(lstm, f"weight_ih_l{layer}")
        cell = cls(w_x.shape[1], lstm.hidden_size)
        with torch.no_grad():
            cell.W_x.copy_(w_x)
            cell.W_h.copy_(getattr(lstm, f"weight_hh_l{layer}"))
            cell.b.copy_(getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))
        return cell


def _describe(value) -> str:
    if isinstance(value, torch.Tensor):
        return f"one tensor of shape {tuple(value.shape)}"
    return f"a {type(value).__name__}"


def run_cell(cell: LSTMCell, x: torch.Tensor, state=None):
    """Run an ``LSTMCell`` over a batch-first sequence x (B, T, D); returns the states (B, T, H) and the last (h, c)."""
    if not isinstance(cell, LSTMCell):
        raise TypeError(f"cell must be an LSTMCell, not {_describe(cell)}.")
    if not isinstance(x, torch.Tensor) or x.dim() != 3 or x.shape[2] != cell.input_dim:
        raise ValueError(f"x must be shaped (B, T, {cell.input_dim}), got {_describe(x)}.")
    if state is None:
        state = (x.new_zeros(x.shape[0], cell.hidden_dim), x.new_zeros(x.shape[0], cell.hidden_dim))
    outputs = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        outputs.append(state[0])
    return torch.stack(outputs, dim=1), state


def layer_param_count(kind: str, input_dim: int, hidden_dim: int) -> int:
    """Parameters of one direction of one ``nn.RNN``/``nn.GRU``/``nn.LSTM`` layer: k (H*D + H*H + 2H).

    k is the number of gate blocks (1, 3 or 4); PyTorch keeps two bias vectors per block.
    """
    if kind not in GATE_BLOCKS:
        raise ValueError(f"kind must be one of {', '.join(GATE_BLOCKS)}, not {kind!r}.")
    _positive_ints(input_dim=input_dim, hidden_dim=hidden_dim)
    k = GATE_BLOCKS[kind]
    return k * (hidden_dim * input_dim + hidden_dim * hidden_dim + 2 * hidden_dim)


def open_memory_gate(rnn: nn.Module, value: float) -> nn.Module:
    """Start an ``nn.LSTM``'s forget gates (or an ``nn.GRU``'s update gates) at sigmoid(``value``), in every layer.

    The gate's two bias blocks are set to ``value`` and 0 (PyTorch adds them); every other parameter stays.
    The block is the second of each layer's bias: LSTM blocks are ordered i, f, g, o and GRU blocks r, z, n.
    """
    if not isinstance(rnn, nn.LSTM | nn.GRU):
        raise TypeError(f"rnn must be an nn.LSTM (forget gate) or an nn.GRU (update gate), not {type(rnn).__name__}: "
                        "a plain RNN has no gate to open.")
    if isinstance(value, bool) or not isinstance(value, int | float) or not abs(value) < float("inf"):
        raise ValueError(f"value must be a finite number (the gate's bias; sigmoid(value) is where it starts), not {value!r}.")
    H = rnn.hidden_size
    with torch.no_grad():
        for name, param in rnn.named_parameters():
            if name.startswith("bias_"):
                param[H : 2 * H] = value if name.startswith("bias_ih") else 0.0
    return rnn


class LastStepModel(nn.Module):
    """Many-to-one: [embedding] -> one recurrent layer -> linear head on the last state.

    ``gate_bias`` (LSTM or GRU only) starts the forget (LSTM) or update (GRU) gate at sigmoid(gate_bias) with
    ``open_memory_gate``; None keeps PyTorch's initialization, where every gate starts near 0.5.
    """

    def __init__(self, kind: str, input_dim: int, output_dim: int, hidden_dim: int = 64,
                 vocab_size: int | None = None, gate_bias: float | None = None):
        super().__init__()
        if kind not in LAYERS:
            raise ValueError(f"kind must be one of {', '.join(LAYERS)}, not {kind!r}.")
        _positive_ints(input_dim=input_dim, output_dim=output_dim, hidden_dim=hidden_dim,
                       **({} if vocab_size is None else {"vocab_size": vocab_size}))
        self.kind = kind
        self.embedding = nn.Embedding(vocab_size, input_dim) if vocab_size else None
        self.rnn = LAYERS[kind](input_dim, hidden_dim, batch_first=True)
        self.head = nn.Linear(hidden_dim, output_dim)
        if kind == "rnn":  # as in chapter 02: start the plain RNN at the edge, W_hh orthogonal (r = 1)
            nn.init.orthogonal_(self.rnn.weight_hh_l0)
        if gate_bias is not None:
            if kind == "rnn":
                raise ValueError("gate_bias needs kind 'lstm' (forget gate) or 'gru' (update gate); a plain RNN has no gate.")
            open_memory_gate(self.rnn, gate_bias)

    def forward(self, x):                          # (B, T) token ids or (B, T, D) values
        if self.embedding is not None:
            x = self.embedding(x)                  # (B, T, D)
        out, _ = self.rnn(x)                       # (B, T, H)
        return self.head(out[:, -1])               # (B, output_dim)


class CharLM(nn.Module):
    """Embedding -> LSTM or GRU (num_layers) -> linear over the alphabet, with dropout around the recurrence."""

    def __init__(self, vocab_size: int = VOCAB_SIZE, embed_dim: int = 64, hidden_dim: int = 256,
                 num_layers: int = 1, dropout: float = 0.0, cell: str = "lstm"):
        super().__init__()
        if cell not in LAYERS:
            raise ValueError(f"cell must be one of {', '.join(LAYERS)}, not {cell!r}.")
        self.cell = cell
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.drop = nn.Dropout(dropout)
        self.rnn = LAYERS[cell](embed_dim, hidden_dim, num_layers=num_layers, batch_first=True,
                                dropout=dropout if num_layers > 1 else 0.0)
        self.head = nn.Linear(hidden_dim, vocab_size)

    def forward(self, tokens, state=None):                 # tokens: (B, T)
        x = self.drop(self.embedding(tokens))              # (B, T, E)
        out, state = self.rnn(x, state)                    # (B, T, H), state of the last step
        return self.head(self.drop(out)), state            # (B, T, V) logits
