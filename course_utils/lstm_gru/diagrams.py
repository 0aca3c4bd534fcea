"""Chapter 03's cell diagrams, drawn by code: the LSTM cell and the GRU cell, gates labelled as in the equations.

Introduced in chapter 03 (LSTM and GRU), §1 (``lstm_cell_diagram``) and §2 (``gru_cell_diagram``). Each draws one
time step in the style of Olah's "Understanding LSTM networks": the state that runs along the top (the LSTM's
cell, the "belt"; the GRU's hidden state) is drawn thick and coloured, and the direct path from the old state to
the new one, which passes only through an elementwise product with a gate and a sum, is annotated with its
Jacobian. Gate boxes are labelled with their nonlinearity and the symbol of the notebook's equations. Every
artist that names a part carries a ``gid`` (e.g. ``"gate:f_t"``, ``"belt"``), so tests can find it.
"""

from __future__ import annotations

from matplotlib.patches import Circle, FancyArrowPatch, FancyBboxPatch

from ..plotting import new_figure

BELT = "#d69e2e"      # the state that rides along the top
WIRE = "#4a5568"      # every other connection
GATE = {"sigmoid": "#bee3f8", "tanh": "#c6f6d5"}
OP = "#fefcbf"


def _wire(ax, points, color=WIRE, lw=1.6, arrow=True, gid=None, z=2):
    """A polyline through ``points`` with an arrow head at its end."""
    for (x0, y0), (x1, y1) in zip(points[:-2], points[1:-1]):
        ax.plot([x0, x1], [y0, y1], color=color, lw=lw, solid_capstyle="round", zorder=z, gid=gid)
    (x0, y0), (x1, y1) = points[-2], points[-1]
    ax.add_patch(FancyArrowPatch((x0, y0), (x1, y1), arrowstyle="-|>" if arrow else "-", mutation_scale=12,
                                 color=color, lw=lw, shrinkA=0, shrinkB=0, zorder=z, gid=gid))


def _gate(ax, x, y, kind, symbol, note, side="right"):
    """A gate box: the nonlinearity and the gate's role inside, the equation's symbol beside its output wire."""
    ax.add_patch(FancyBboxPatch((x - 0.55, y - 0.45), 1.1, 0.9, boxstyle="round,pad=0.04", fc=GATE[kind],
                                ec=WIRE, lw=1.2, zorder=4, gid=f"gate:{symbol}"))
    ax.text(x, y + 0.16, "σ" if kind == "sigmoid" else "tanh", ha="center", va="center",
            fontsize=11 if kind == "sigmoid" else 9, zorder=5)
    ax.text(x, y - 0.22, note, ha="center", va="center", fontsize=8, color="#2d3748", zorder=5)
    ax.text(x + (0.12 if side == "right" else -0.12), y + 0.58, f"${symbol}$", ha="left" if side == "right" else "right",
            va="bottom", fontsize=11, zorder=5, gid=f"label:{symbol}")


def _op(ax, x, y, sign, gid=None, fc=OP):
    ax.add_patch(Circle((x, y), 0.24 if len(sign) == 1 else 0.3, fc=fc, ec=WIRE, lw=1.2, zorder=6, gid=gid))
    ax.text(x, y - 0.01, sign, ha="center", va="center", fontsize=12 if len(sign) == 1 else 9, zorder=7)


def _belt(ax, y, x_times, x_plus, old, new, times_gid, path_text, path_x, name, name_x):
    """The state along the top: old -> (x gate) -> (+ new content) -> new, thick and coloured, with its direct path."""
    for x0, x1 in ((-1.0, x_times - 0.24), (x_times + 0.24, x_plus - 0.24), (x_plus + 0.24, 11.2)):
        _wire(ax, [(x0, y), (x1, y)], color=BELT, lw=4.5, gid="belt", z=3)
    ax.text(-1.0, y + 0.25, old, fontsize=12, ha="left", va="bottom")
    ax.text(11.2, y + 0.25, new, fontsize=12, ha="right", va="bottom")
    _op(ax, x_times, y, "×", gid=times_gid)
    _op(ax, x_plus, y, "+", gid="op:add")
    ax.text(path_x, y + 0.62, path_text, ha="center", va="bottom", fontsize=9, color="#975a16", gid="direct-path")
    ax.text(name_x, y - 0.55, name, fontsize=8, color="#975a16", ha="center", va="top")


Y_TOP, Y_GATE, Y_BUS = 5.0, 2.1, 0.75  # the state along the top, the gate boxes, the input bus


def _cell(title, belt):
    """The preamble both cells share: the figure, the cell's rounded box (axes hidden, equal aspect) and the state
    along the top (``belt``: ``_belt``'s arguments after ``y``); returns (fig, ax)."""
    fig, ax = new_figure(figsize=(8.6, 4.6))
    ax.add_patch(FancyBboxPatch((0.2, 0.1), 9.6, 5.6, boxstyle="round,pad=0.1", fc="#f7fafc", ec="#a0aec0",
                                lw=1.0, zorder=0))
    ax.set_xlim(-1.2, 11.4)
    ax.set_ylim(-1.0, 6.4)
    ax.set_aspect("equal")
    ax.set_axis_off()
    ax.set_title(title, fontsize=10)
    _belt(ax, Y_TOP, *belt)
    return fig, ax


def _x_t(ax):
    """x_t entering from below into the input bus."""
    _wire(ax, [(1.2, -0.9), (1.2, Y_BUS)], arrow=False)
    ax.text(1.35, -0.85, "$x_t$", fontsize=12, ha="left", va="bottom")


def lstm_cell_diagram():
    """One LSTM step: gates f, i, g, o, the cell (belt) along the top and its direct path c_{t-1} -> c_t; returns the figure."""
    x_f, x_i, x_g, x_o, x_plus, x_out = 2.6, 4.3, 5.7, 7.5, 5.0, 8.7
    # the belt: c_{t-1} -> (x f_t) -> (+ i_t g_t) -> c_t
    fig, ax = _cell("One LSTM step: $c_t = f_t \\odot c_{t-1} + i_t \\odot g_t$,  $h_t = o_t \\odot \\tanh(c_t)$",
                    (x_f, x_plus, "$c_{t-1}$", "$c_t$", "op:forget",
                     "direct path: $\\partial c_t / \\partial c_{t-1} = \\mathrm{diag}(f_t)$", 3.8, "cell state: the belt", 7.2))
    # inputs: h_{t-1} from the left and x_t from below share one bus into the four gates
    _wire(ax, [(-1.0, Y_BUS), (x_o, Y_BUS)], arrow=False)
    ax.text(-1.0, Y_BUS - 0.2, "$h_{t-1}$", fontsize=12, ha="left", va="top")
    _x_t(ax)
    for x in (x_f, x_i, x_g, x_o):
        _wire(ax, [(x, Y_BUS), (x, Y_GATE - 0.47)])
    _gate(ax, x_f, Y_GATE, "sigmoid", "f_t", "forget")
    _gate(ax, x_i, Y_GATE, "sigmoid", "i_t", "input")
    _gate(ax, x_g, Y_GATE, "tanh", "g_t", "candidate")
    _gate(ax, x_o, Y_GATE, "sigmoid", "o_t", "output", side="left")
    # f_t up to the belt's product; i_t and g_t multiplied, then added onto the belt
    _wire(ax, [(x_f, Y_GATE + 0.47), (x_f, Y_TOP - 0.26)])
    _op(ax, x_plus, 3.55, "×", gid="op:write")
    _wire(ax, [(x_i, Y_GATE + 0.47), (x_i, 3.55), (x_plus - 0.26, 3.55)])
    _wire(ax, [(x_g, Y_GATE + 0.47), (x_g, 3.55), (x_plus + 0.26, 3.55)])
    _wire(ax, [(x_plus, 3.8), (x_plus, Y_TOP - 0.26)])
    # read-out: tanh(c_t) times o_t is h_t
    _wire(ax, [(x_out, Y_TOP), (x_out, 4.35)], color=BELT, lw=2.0)
    ax.add_patch(FancyBboxPatch((x_out - 0.36, 3.75), 0.72, 0.42, boxstyle="round,pad=0.03", fc=GATE["tanh"], ec=WIRE,
                                lw=1.0, zorder=4))
    ax.text(x_out, 3.96, "tanh", ha="center", va="center", fontsize=8, zorder=5)
    _op(ax, x_out, 2.9, "×", gid="op:read")
    _wire(ax, [(x_out, 3.73), (x_out, 3.16)])
    _wire(ax, [(x_o, Y_GATE + 0.47), (x_o, 2.9), (x_out - 0.26, 2.9)])
    _wire(ax, [(x_out + 0.24, 2.9), (11.2, 2.9)])
    ax.text(11.2, 3.1, "$h_t$", fontsize=12, ha="right", va="bottom")
    ax.text(11.2, 2.7, "to the head\nand the next step", fontsize=8, ha="right", va="top")
    return fig


def gru_cell_diagram():
    """One GRU step: gates r, z, candidate n, the state along the top and its direct path h_{t-1} -> h_t; returns the figure."""
    x_r, x_z, x_n, x_keep, x_plus, x_reset = 2.2, 4.0, 6.9, 4.0, 6.9, 5.5
    fig, ax = _cell("One GRU step: $h_t = (1 - z_t) \\odot n_t + z_t \\odot h_{t-1}$",
                    (x_keep, x_plus, "$h_{t-1}$", "$h_t$", "op:keep",
                     "direct path $z_t \\odot h_{t-1}$: Jacobian $\\mathrm{diag}(z_t)$", 5.45, "hidden state: the belt", 9.6))
    # h_{t-1} also feeds the gates: down from the top line into the bus, where x_t joins
    _wire(ax, [(0.0, Y_TOP), (0.0, Y_BUS), (x_reset, Y_BUS)], arrow=False)
    _x_t(ax)
    for x in (x_r, x_z):
        _wire(ax, [(x, Y_BUS), (x, Y_GATE - 0.47)])
    _gate(ax, x_r, Y_GATE, "sigmoid", "r_t", "reset", side="left")
    _gate(ax, x_z, Y_GATE, "sigmoid", "z_t", "update")
    _gate(ax, x_n, Y_GATE, "tanh", "n_t", "candidate")
    # the reset gate scales W_hn h_{t-1} + b_hn before the candidate's tanh
    _op(ax, x_reset, Y_GATE, "×", gid="op:reset")
    _wire(ax, [(x_r + 0.57, Y_GATE), (x_r + 0.85, Y_GATE), (x_r + 0.85, 3.0), (x_reset, 3.0), (x_reset, Y_GATE + 0.26)])
    _wire(ax, [(x_reset, Y_BUS), (x_reset, Y_GATE - 0.26)])
    ax.text(x_reset + 0.12, 1.2, "$W_{hn} h_{t-1} + b_{hn}$", fontsize=8, ha="left", va="center")
    _wire(ax, [(x_reset + 0.26, Y_GATE), (x_n - 0.57, Y_GATE)])
    _wire(ax, [(1.2, 0.3), (8.2, 0.3), (8.2, Y_GATE), (x_n + 0.57, Y_GATE)])
    ax.text(8.3, 0.45, "$x_t$", fontsize=9, ha="left", va="bottom")
    # z_t keeps part of the old state; 1 - z_t lets the candidate in
    _wire(ax, [(x_z, Y_GATE + 0.47), (x_z, Y_TOP - 0.26)])
    _op(ax, 5.45, 3.6, "1−", gid="op:one-minus")
    _wire(ax, [(x_z, 3.6), (5.45 - 0.3, 3.6)])
    _op(ax, x_n, 3.6, "×", gid="op:write")
    _wire(ax, [(5.45 + 0.3, 3.6), (x_n - 0.26, 3.6)])
    _wire(ax, [(x_n, Y_GATE + 0.47), (x_n, 3.6 - 0.26)])
    _wire(ax, [(x_n, 3.86), (x_n, Y_TOP - 0.26)])
    return fig
