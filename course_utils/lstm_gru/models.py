"""LSTM and GRU cells written from their gate equations, and parameter counts by formula.

Introduced in chapter 03 (LSTM and GRU), which writes the same cells in the notebook first and checks
them against ``nn.LSTM`` / ``nn.GRU``. The chapter's gate viewer runs ``LSTMCell`` with a trained model's
weights to record every gate (``charlm.record_gates``).

Weights are laid out as in PyTorch, so they can be copied over: the four LSTM blocks are stacked in the
order input, forget, cell candidate, output (i, f, g, o); the three GRU blocks in the order reset,
update, candidate (r, z, n).
"""

from __future__ import annotations

import torch
import torch.nn as nn

LSTM_GATES = ("input", "forget", "cell candidate", "output")
GRU_GATES = ("reset", "update", "candidate")
GATE_BLOCKS = {"rnn": 1, "gru": 3, "lstm": 4}


class LSTMCell(nn.Module):
    """One LSTM step: gates from x_t and h_{t-1}; c_t = f * c_{t-1} + i * g; h_t = o * tanh(c_t)."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W_x = nn.Parameter(torch.randn(4 * hidden_size, input_size) / input_size**0.5)     # (4H, D)
        self.W_h = nn.Parameter(torch.randn(4 * hidden_size, hidden_size) / hidden_size**0.5)   # (4H, H)
        self.b = nn.Parameter(torch.zeros(4 * hidden_size))                                    # (4H,)

    def forward(self, x, state, return_gates: bool = False):  # x: (B, D), state: ((B, H), (B, H))
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
        if not isinstance(lstm, nn.LSTM) or not 0 <= layer < lstm.num_layers or lstm.proj_size:
            raise ValueError(f"from_torch needs an nn.LSTM without projections and a layer in [0, {lstm.num_layers}).")
        w_x = getattr(lstm, f"weight_ih_l{layer}")
        cell = cls(w_x.shape[1], lstm.hidden_size)
        with torch.no_grad():
            cell.W_x.copy_(w_x)
            cell.W_h.copy_(getattr(lstm, f"weight_hh_l{layer}"))
            cell.b.copy_(getattr(lstm, f"bias_ih_l{layer}") + getattr(lstm, f"bias_hh_l{layer}"))
        return cell


class GRUCell(nn.Module):
    """One GRU step: r and z from x_t and h_{t-1}; n = tanh(W_xn x + r * (W_hn h + b_hn)); h_t = (1 - z) n + z h."""

    def __init__(self, input_size: int, hidden_size: int):
        super().__init__()
        self.hidden_size = hidden_size
        self.W_x = nn.Parameter(torch.randn(3 * hidden_size, input_size) / input_size**0.5)     # (3H, D)
        self.W_h = nn.Parameter(torch.randn(3 * hidden_size, hidden_size) / hidden_size**0.5)   # (3H, H)
        self.b_x = nn.Parameter(torch.zeros(3 * hidden_size))   # two biases: b_hn sits inside r * (...)
        self.b_h = nn.Parameter(torch.zeros(3 * hidden_size))

    def forward(self, x, h, return_gates: bool = False):  # x: (B, D), h: (B, H)
        x_r, x_z, x_n = (x @ self.W_x.T + self.b_x).chunk(3, dim=1)   # 3 x (B, H)
        h_r, h_z, h_n = (h @ self.W_h.T + self.b_h).chunk(3, dim=1)
        r, z = torch.sigmoid(x_r + h_r), torch.sigmoid(x_z + h_z)
        n = torch.tanh(x_n + r * h_n)
        h = (1 - z) * n + z * h            # interpolate between the candidate and the old state
        if return_gates:
            return h, dict(zip(GRU_GATES, (r, z, n)))
        return h

    @classmethod
    def from_torch(cls, gru: nn.GRU, layer: int = 0) -> GRUCell:
        """A cell holding layer ``layer`` of ``gru``'s weights."""
        if not isinstance(gru, nn.GRU) or not 0 <= layer < gru.num_layers:
            raise ValueError(f"from_torch needs an nn.GRU and a layer in [0, {getattr(gru, 'num_layers', '?')}).")
        w_x = getattr(gru, f"weight_ih_l{layer}")
        cell = cls(w_x.shape[1], gru.hidden_size)
        with torch.no_grad():
            cell.W_x.copy_(w_x)
            cell.W_h.copy_(getattr(gru, f"weight_hh_l{layer}"))
            cell.b_x.copy_(getattr(gru, f"bias_ih_l{layer}"))
            cell.b_h.copy_(getattr(gru, f"bias_hh_l{layer}"))
        return cell


def run_cell(cell: nn.Module, x: torch.Tensor, state=None):
    """Run a cell over a batch-first sequence x (B, T, D); returns the states (B, T, H) and the last state."""
    if not isinstance(x, torch.Tensor) or x.dim() != 3:
        raise ValueError(f"x must be shaped (B, T, D), got {tuple(x.shape) if isinstance(x, torch.Tensor) else x!r}.")
    B, H = x.shape[0], cell.hidden_size
    if state is None:
        zeros = x.new_zeros(B, H)
        state = (zeros, zeros) if isinstance(cell, LSTMCell) else zeros
    outputs = []
    for t in range(x.shape[1]):
        state = cell(x[:, t], state)
        outputs.append(state[0] if isinstance(state, tuple) else state)
    return torch.stack(outputs, dim=1), state


def layer_param_count(kind: str, input_size: int, hidden_size: int) -> int:
    """Parameters of one direction of one ``nn.RNN``/``nn.GRU``/``nn.LSTM`` layer: k (H*D + H*H + 2H).

    k is the number of gate blocks (1, 3 or 4); PyTorch keeps two bias vectors per block.
    """
    if kind not in GATE_BLOCKS:
        raise ValueError(f"Unknown kind {kind!r}; choose one of {', '.join(GATE_BLOCKS)}.")
    if input_size < 1 or hidden_size < 1:
        raise ValueError(f"input_size and hidden_size must be >= 1, got {input_size} and {hidden_size}.")
    k = GATE_BLOCKS[kind]
    return k * (hidden_size * input_size + hidden_size * hidden_size + 2 * hidden_size)
