# ---
# jupyter:
#   jupytext:
#     formats: ipynb,py:percent
#     text_representation:
#       extension: .py
#       format_name: percent
#       format_version: '1.3'
#       jupytext_version: 1.19.6
#   kernelspec:
#     display_name: Python 3 (ipykernel)
#     language: python
#     name: python3
# ---

# %% [markdown]
# # 02 · Recurrent networks and backpropagation through time
#
# [![Open In Colab](https://colab.research.google.com/assets/colab-badge.svg)](https://colab.research.google.com/github/dla-interactive/deep-learning-architectures/blob/main/notebooks/02_rnn_bptt.ipynb)
#
# **After this chapter you can**
# - say why a sequence model needs a state, write the hidden-state update and the output equation, and explain
#   why one set of weights serves every time step and every sequence length;
# - write a recurrent network from scratch that matches `nn.RNN` exactly, and see it as a deep feed-forward net
#   whose depth is the sequence length;
# - pick the right shape for a task: many-to-one, many-to-many (aligned or encoder–decoder), one-to-many; train an
#   encoder–decoder with teacher forcing; batch sequences of different lengths with padding, masks and packing;
# - derive backpropagation through time, implement it by hand, and check it against autograd;
# - tell from $W_{hh}$ how gradients behave over distance: a largest singular value below 1 guarantees that they vanish,
#   and the spectral radius sets their long-run rate; measure both;
# - keep unstable training in check with clipping by norm, and handle long sequences with truncated BPTT;
# - train an embedding → RNN → linear classifier on real images read row by row, and find how far back a plain
#   RNN can remember.
#
# | run | what it does | time on a 2-core laptop CPU |
# |---|---|---|
# | full (default) | all 60,000 training images for 8 epochs, memory experiment over 6 distances × 3 seeds | <!-- runtime:full -->4.0 min (measured on 2 CPU cores, torch 2.14.1+cu130; every chapter: the README's chapter table)<!-- /runtime --> |
# | smoke (`COURSE_SMOKE=1`) | 2,000 images, 1 epoch, a few dozen steps per experiment: checks that everything runs | <!-- runtime:smoke -->22 s (measured on 2 CPU cores, torch 2.14.1+cu130; CI allows 45 s)<!-- /runtime --> |
#
# Prerequisites: chapter 01 (the training loop, `course_utils.train.fit`), the chain rule, matrix products.

# %%
# Setup. In Google Colab this installs the course helpers at the version this notebook was written for, quietly
# and without replacing any package Colab ships (so no restart); anywhere else it only checks the installed version.
import sys

COURSE_UTILS_VERSION = "0.3.0"


class SetupError(Exception):
    def _render_traceback_(self):  # Jupyter shows this one line instead of a traceback
        return [f"SetupError: {self}"]


if "google.colab" in sys.modules:
    import importlib.metadata
    import subprocess

    try:
        installed = importlib.metadata.version("course_utils")
    except importlib.metadata.PackageNotFoundError:
        installed = None
    if installed != COURSE_UTILS_VERSION:
        tag = f"course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@v{COURSE_UTILS_VERSION}"
        main = "course_utils @ git+https://github.com/dla-interactive/deep-learning-architectures@main"
        if subprocess.run([sys.executable, "-m", "pip", "install", "-q", tag], capture_output=True).returncode:
            raise SetupError(f"could not install course_utils v{COURSE_UTILS_VERSION} from its tag (not on GitHub yet?). "
                             f'Instead run, in a new cell:  %pip install -q "{main}"  and then this cell again.')
try:
    from course_utils import runtime
except ModuleNotFoundError:
    raise SetupError("course_utils is not installed: run `make lab`, or `pip install -e .` in the course folder.") from None

version_ok = runtime.check_version(COURSE_UTILS_VERSION)

# %% [markdown]
# Everything that decides how long the chapter takes sits in one configuration cell. The left column is the
# full run you read about; the right column is the *smoke* run that CI uses (set `COURSE_SMOKE=1`).

# %%
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils import batches, data, plotting, results, runtime, train, widgets
from course_utils.rnn_bptt import checks, gradients, seq2seq, tasks, views

chapter_start = time.perf_counter()
cfg = runtime.Config(
    n_train=(None, 2000),         # None: all 60,000 training images
    n_test=(None, 1000),
    num_tokens=(256, 256),        # size of the row vocabulary (section 9)
    batch_size=(128, 128),
    num_epochs=(8, 1),
    lr=(2e-3, 2e-3),              # peak learning rate of the one-cycle schedule (Adam)
    reverse_steps=(1500, 100),    # Adam steps of the encoder-decoder that reverses sequences (section 4)
    reverse_length=(12, 12),      # tokens per sequence to reverse
    clip_steps=(300, 30),         # SGD steps of the clipping experiment (section 7)
    stream_length=(3000, 300),    # tokens per stream in the truncated-BPTT experiment (section 8)
    recall_steps=(500, 40),       # Adam steps per run in the memory experiment (section 10)
    recall_distances=((5, 10, 20, 30, 40, 60), (5, 10)),
    recall_seeds=(3, 1),          # runs per distance
    search_distances=((5, 10, 15, 20, 25, 30, 40, 50, 60), (5, 10, 15)),  # exercise 3
    radius_step=(0.1, 0.25),      # grid of the vanishing/exploding explorer (full: 16 radii x 9 = 144 settings)
    seed=(0, 0),
)
cfg

# %%
runtime.seed_everything(cfg.seed)
device = runtime.get_device("cpu")  # sequences of small matrix products: the CPU is the fair place for these
ds = data.load_fashion_mnist(n_train=cfg.n_train, n_test=cfg.n_test)
print(ds)
print("device:", device, "| threads:", torch.get_num_threads())

# %% [markdown]
# ## 1. Why sequences need a state
#
# Text, speech, sensor readings and stock prices arrive one step at a time, and their length varies: a review
# can have 5 words or 500. A dense network or a CNN of chapter 01 wants an input of fixed size and sees it all
# at once. A **recurrent** network instead reads one element $x_t$ per step and carries a **hidden state**
# $h_t$, a fixed-size summary of everything read so far:
#
# $$h_t = \tanh\left(W_{xh}\, x_t + W_{hh}\, h_{t-1} + b_h\right), \qquad h_0 = 0,$$
# $$\hat y_t = W_{hy}\, h_t + b_y .$$
#
# The first line is the **state update**, the second the **output equation**. The same $W_{xh}$, $W_{hh}$, $W_{hy}$ are
# used at every step, just as a convolution reuses one filter at every position: the number of parameters does
# not depend on the length, and a pattern learned at step 3 is recognized at step 300.
#
# The smallest possible example has one input, one state unit, no nonlinearity and no bias. With
# $W_{hh} = 1$ the state is a running sum; with $W_{hh} = 0.5$ it is a memory that forgets half of the past at
# every step. The same two numbers process sequences of any length:

# %%
# NBVAL_CHECK_OUTPUT
def tiny_rnn(xs, w_xh, w_hh):
    """h_t = w_xh * x_t + w_hh * h_{t-1}, one number per step; returns every state."""
    h, states = 0.0, []
    for x in xs:
        h = w_xh * x + w_hh * h
        states.append(h)
    return states


for xs in ([1, 2, 3], [1, 0, 0, 0, 0, 0, 4]):
    print(f"input {xs}")
    print(f"   w_hh = 1   (running sum):      {tiny_rnn(xs, 1.0, 1.0)}")
    print(f"   w_hh = 0.5 (fading memory):    {tiny_rnn(xs, 1.0, 0.5)}")

# %% [markdown]
# Look at the second sequence with $W_{hh} = 0.5$: the first input's contribution halves at every step. Keep that
# in mind; in section 6 the same effect, with a matrix instead of 0.5, is what makes gradients vanish.
#
# ## 2. A recurrent network from scratch
#
# A layer of the update above, stacked `num_layers` times (each layer reads the state sequence of the one below),
# is what `nn.RNN` computes. Written as two loops, over layers and over time:

# %%
class ScratchRNN(nn.Module):
    """A multi-layer tanh RNN, batch first, written as a loop over layers and a loop over time steps."""

    def __init__(self, input_size, hidden_size, num_layers=1):
        super().__init__()
        self.hidden_size = hidden_size
        in_sizes = [input_size] + [hidden_size] * (num_layers - 1)
        self.W_xh = nn.ParameterList([nn.Parameter(torch.randn(hidden_size, d) * 0.1) for d in in_sizes])
        self.W_hh = nn.ParameterList([nn.Parameter(torch.randn(hidden_size, hidden_size) * 0.1) for _ in in_sizes])
        self.b_h = nn.ParameterList([nn.Parameter(torch.zeros(hidden_size)) for _ in in_sizes])

    def forward(self, x):  # x: (B, T, D)
        B, T, _ = x.shape
        last_states = []
        for W_xh, W_hh, b_h in zip(self.W_xh, self.W_hh, self.b_h):
            h = x.new_zeros(B, self.hidden_size)                  # (B, H): h_0 = 0
            states = []
            for t in range(T):
                h = torch.tanh(x[:, t] @ W_xh.T + h @ W_hh.T + b_h)  # (B, H)
                states.append(h)
            x = torch.stack(states, dim=1)                        # (B, T, H): the input of the next layer
            last_states.append(h)
        return x, torch.stack(last_states)                        # (B, T, H), (num_layers, B, H)


# %% [markdown]
# `nn.RNN` keeps two bias vectors per layer (`bias_ih` and `bias_hh`, for compatibility with GPU libraries); they are
# always added together, so our single $b_h$ is their sum. Copying the weights of an `nn.RNN` into the scratch
# version, both must compute the same outputs and the same final states, for any batch size and length:

# %%
# NBVAL_CHECK_OUTPUT
def copy_weights(reference, scratch):
    with torch.no_grad():
        for layer in range(reference.num_layers):
            scratch.W_xh[layer].copy_(getattr(reference, f"weight_ih_l{layer}"))
            scratch.W_hh[layer].copy_(getattr(reference, f"weight_hh_l{layer}"))
            scratch.b_h[layer].copy_(getattr(reference, f"bias_ih_l{layer}") + getattr(reference, f"bias_hh_l{layer}"))


torch.manual_seed(0)
reference = nn.RNN(input_size=5, hidden_size=7, num_layers=2, batch_first=True)
scratch = ScratchRNN(5, 7, num_layers=2)
copy_weights(reference, scratch)
for B, T in [(3, 4), (1, 30), (8, 1)]:
    x = torch.randn(B, T, 5)
    out_ref, h_ref = reference(x)
    out_ours, h_ours = scratch(x)
    assert torch.allclose(out_ours, out_ref, atol=1e-6) and torch.allclose(h_ours, h_ref, atol=1e-6)
    print(f"batch {B}, length {T:>2}: output {tuple(out_ours.shape)}, last states {tuple(h_ours.shape)} - match nn.RNN")
print(f"parameters: scratch {train.count_parameters(scratch)}, nn.RNN {train.count_parameters(reference)} "
      f"(nn.RNN has a second bias vector per layer)")

# %% [markdown]
# Note the two shapes: `output` holds the top layer's state at every step, batch first; the final states `h_n`
# hold the last step of every layer, and their first dimension is the layer, even with `batch_first=True`
# (exercise 2 is about exactly this).
#
# ## 3. Unrolling: a deep network in disguise
#
# Write the loop out step by step and the recurrent network becomes a feed-forward network with one layer per
# time step, in which every layer uses the same weights:

# %%
fig = views.unrolled_figure(num_steps=4)
fig

# %% [markdown]
# So an RNN over 100 steps is a 100-layer network, even if it has only one recurrent layer. The backward pass sees
# exactly that: autograd's graph holds one tanh per step (and per layer), while the parameter count stays fixed.
# We count the tanh nodes by walking the graph from the final state back to the inputs:

# %%
# NBVAL_CHECK_OUTPUT
def count_graph_nodes(tensor, kind="TanhBackward0"):
    """How many autograd nodes of type `kind` lie behind `tensor`."""
    seen, stack = set(), [tensor.grad_fn]
    while stack:
        node = stack.pop()
        if node is not None and node not in seen:
            seen.add(node)
            stack.extend(parent for parent, _ in node.next_functions)
    return sum(type(node).__name__ == kind for node in seen)


one_layer = ScratchRNN(5, 7, num_layers=1)
for T in (1, 10, 100):
    _, h_n = one_layer(torch.randn(2, T, 5))
    print(f"length {T:>3}: {count_graph_nodes(h_n):>3} tanh layers between the input and h_T, "
          f"{train.count_parameters(one_layer)} parameters")

# %% [markdown]
# Chapter 01 showed what depth does to gradients in a plain feed-forward stack. Sections 5–8 show the same story
# in time, where the depth is set by the data, not by the designer.
#
# ## 4. Task shapes
#
# The same recurrent layer serves different tasks depending on what goes in, what comes out and how the two line up:
#
# | shape | inputs → outputs | example |
# |---|---|---|
# | many-to-one | a sequence → one label | sentiment of a review; the class of an image read row by row (section 9) |
# | many-to-many, aligned | one output per input step | part-of-speech tagging; the next character at every position (chapter 03) |
# | many-to-many, encoder–decoder | a sequence → a sequence of another length | translation; summarization |
# | one-to-many | one vector → a sequence | image captioning; generating a melody from a style vector |
#
# In code the difference is only which states feed the head and where the decoder's state comes from:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(0)
B, T, D, H, num_classes, vocab_size = 4, 12, 8, 16, 5, 10
encoder = nn.RNN(D, H, batch_first=True)
x = torch.randn(B, T, D)
out, h_n = encoder(x)                                   # (B, T, H), (1, B, H)

to_class, to_token = nn.Linear(H, num_classes), nn.Linear(H, vocab_size)
print(f"many-to-one             {tuple(to_class(out[:, -1]).shape)!s:<12} one label per sequence, from the last state")
print(f"many-to-many, aligned   {tuple(to_token(out).shape)!s:<12} one token per input step")

# %% [markdown]
# The encoder–decoder's decoder is itself an RNN that writes the output sequence one token at a time, each step
# reading the token before it. During training that previous token is taken from the *target*, not from the
# decoder's own guess: this is **teacher forcing**. It gives every step a correct context, so all steps train in
# parallel from the first update; at test time there is no target, and the decoder must read its own predictions. Here
# random vectors stand in for the embedded target tokens:

# %%
# NBVAL_CHECK_OUTPUT
decoder = nn.RNN(D, H, batch_first=True)
target_inputs = torch.randn(B, 7, D)                    # the embedded previous target tokens (teacher forcing)
dec_out, _ = decoder(target_inputs, h_n)                # starts from the encoder's summary
print(f"encoder-decoder         {tuple(to_token(dec_out).shape)!s:<12} 7 outputs for 12 inputs")

# %% [markdown]
# In the one-to-many case a single vector (say, an image's features) sets the initial state, and the network then
# feeds its own previous prediction back in as the next input, one step at a time:

# %%
# NBVAL_CHECK_OUTPUT
def generate(start_vector, to_state, embed, cell, head, num_steps):
    """One-to-many: a vector sets h_0; each predicted token is the next step's input (token 0 starts)."""
    h = torch.tanh(to_state(start_vector))              # (B, H)
    token = torch.zeros(len(start_vector), dtype=torch.long)
    tokens = []
    for _ in range(num_steps):
        h = cell(embed(token), h)                       # (B, H)
        token = head(h).argmax(1)                       # (B,): the most likely next token
        tokens.append(token)
    return torch.stack(tokens, dim=1)                   # (B, num_steps)


features = torch.randn(B, 32)                           # e.g. one image's features per example
caption = generate(features, nn.Linear(32, H), nn.Embedding(vocab_size, D), nn.RNNCell(D, H), to_token, num_steps=6)
print(f"one-to-many             {tuple(caption.shape)!s:<12} 6 tokens from one vector")

# %% [markdown]
# `nn.RNNCell` is one step of `nn.RNN`: you write the loop yourself, which generation needs because each input
# depends on the previous output.
#
# ### An encoder–decoder, trained
#
# Shapes of untrained modules only go so far, so here is one sequence-to-sequence model trained for real. The task:
# read 12 random tokens (vocabulary of 8) and write them out in reverse order. The encoder RNN reads the source, and
# its final state is *all* the decoder gets. `seq2seq.EncoderDecoder` is the encoder and decoder of the cell above,
# with one shared embedding and a head; token 8, which never occurs in a source, is the decoder's start token.
# Under teacher forcing the decoder reads the start token and then the target shifted right by one step:

# %%
# NBVAL_CHECK_OUTPUT
source, target = seq2seq.reverse_task(1, 12, vocab_size=8, generator=torch.Generator().manual_seed(0))
print("source               ", source[0].tolist())
print("target (reversed)    ", target[0].tolist())
print("decoder reads (input)", seq2seq.teacher_forcing_inputs(target, start_token=8)[0].tolist())

# %% [markdown]
# Training is the usual loop; the only sequence-to-sequence part is that the loss averages over every output step
# (the updates use Adam and clipping by norm, which section 7 explains):

# %%
def train_reverser(model, steps, length, lr=3e-3, batch_size=128, seed=0):
    """Teacher-forced training on fresh reversal batches; returns the training losses."""
    g, optimizer, losses = torch.Generator().manual_seed(seed), torch.optim.Adam(model.parameters(), lr=lr), []
    for _ in range(steps):
        source, target = seq2seq.reverse_task(batch_size, length, model.vocab_size, generator=g)
        logits = model(source, seq2seq.teacher_forcing_inputs(target, model.vocab_size))  # (B, length, 8)
        loss = F.cross_entropy(logits.flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        nn.utils.clip_grad_norm_(model.parameters(), 1.0)
        optimizer.step()
        losses.append(loss.item())
    return losses


torch.manual_seed(cfg.seed)
reverser = seq2seq.EncoderDecoder(vocab_size=8, embed_dim=32, hidden_dim=128)
start = time.perf_counter()
reverse_losses = train_reverser(reverser, cfg.reverse_steps, cfg.reverse_length, seed=cfg.seed)
print(f"{cfg.reverse_steps} steps in {time.perf_counter() - start:.0f} s: training loss "
      f"{reverse_losses[0]:.2f} -> {sum(reverse_losses[-50:]) / 50:.3f} (mean of the last 50)")

# %% [markdown]
# Test it on 2,000 fresh sequences, twice: teacher-forced (the decoder reads the true previous tokens, as in
# training) and **greedy** (`generate`: it reads its own previous prediction, as it must when no target exists):

# %%
source, target = seq2seq.reverse_task(2000, cfg.reverse_length, 8, generator=torch.Generator().manual_seed(12345))
with torch.no_grad():
    forced = reverser(source, seq2seq.teacher_forcing_inputs(target, 8)).argmax(-1)  # (2000, 12)
greedy = reverser.generate(source, cfg.reverse_length)                                # (2000, 12)
reverse_accuracy = {}
for name, predicted in (("teacher-forced", forced), ("greedy", greedy)):
    right = predicted == target
    reverse_accuracy[name] = right.float().mean(0)                                    # by output position
    print(f"{name:<15} tokens right {right.float().mean():.1%}, whole sequences right {right.all(1).float().mean():.1%}")
fig, ax = plotting.new_figure(figsize=(6, 3))
for (name, accuracy), color in zip(reverse_accuracy.items(), ("#999999", "#2b6cb0")):
    ax.plot(range(1, cfg.reverse_length + 1), accuracy, "o-", color=color, ms=4, label=name)
ax.set(xlabel="output position (1 = the last source token, read most recently)", ylabel="test accuracy",
       title="Encoder–decoder (plain RNNs) reversing 12 tokens")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
fig

# %% [markdown]
# The trained encoder–decoder reverses most sequences: greedy decoding gets more than 90 % of the tokens right. The
# first output, the source token read most recently, is almost always right; accuracy falls along the output, and
# the last output (the first source token, held in the state through all 12 encoder steps and the decoding) is the
# hardest: the memory problem of sections 6 and 10 in another guise. Greedy decoding is less accurate than
# teacher-forced decoding, because at test time one wrong token becomes the next step's input and errors compound.

# %%
greedy_acc, forced_acc = reverse_accuracy["greedy"], reverse_accuracy["teacher-forced"]
results.claim("greedy decoding gets more than 90 % of the tokens right", greedy_acc.mean().item() > 0.9,
              detail=f"{greedy_acc.mean():.1%}")
results.claim("the first output is almost always right; the last output is the hardest",
              greedy_acc[0].item() >= 0.98 and greedy_acc.argmin().item() == len(greedy_acc) - 1,
              detail="greedy by position: " + " ".join(f"{a:.0%}" for a in greedy_acc))
_ = results.claim("greedy decoding is less accurate than teacher-forced decoding", greedy_acc.mean() < forced_acc.mean(),
                  detail=f"greedy {greedy_acc.mean():.1%}, teacher-forced {forced_acc.mean():.1%}")

# %% [markdown]
# ### Batches of sequences of different lengths
#
# Section 1 promised sequences of any length, but a batch is one rectangular tensor. The usual answer has three
# parts. **Pad** the shorter sequences to the longest with a pad token (here 0). **Mask** the padded steps out of
# any loss over steps. And for the final state, either pick each sequence's state at its own last real step, or
# **pack** the batch (`nn.utils.rnn.pack_padded_sequence`) so that the RNN stops at each sequence's end and never
# reads the padding at all. A real padded batch, four sequences of lengths 5, 2, 7 and 3:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
lengths = torch.tensor([5, 2, 7, 3])
sequences = [torch.randint(1, 8, (n,), generator=g) for n in lengths.tolist()]  # tokens 1..7; 0 is the pad token
padded = nn.utils.rnn.pad_sequence(sequences, batch_first=True, padding_value=0)  # (4, 7)
mask = torch.arange(padded.shape[1]) < lengths[:, None]                          # (4, 7): True on real steps
print("padded batch:\n", padded)
print("mask:\n", mask.int())

# %% [markdown]
# Now run one RNN three ways and compare final states with running every sequence on its own: over the padded
# batch as it is, packed, and padded but reading each sequence's state at its last real step
# (`seq2seq.last_real_states`):

# %%
torch.manual_seed(0)
embed, rnn = nn.Embedding(8, 6), nn.RNN(6, 10, batch_first=True)
with torch.no_grad():
    alone = torch.cat([rnn(embed(seq)[None])[1][0] for seq in sequences])       # (4, 10): one sequence at a time
    out_padded, h_padded = rnn(embed(padded))                                    # also reads the pad tokens
    packed = nn.utils.rnn.pack_padded_sequence(embed(padded), lengths, batch_first=True, enforce_sorted=False)
    _, h_packed = rnn(packed)                                                    # stops at each sequence's end
picked = seq2seq.last_real_states(out_padded, lengths)
for name, h in (("padded, last step", h_padded[0]), ("packed", h_packed[0]), ("padded, last real step", picked)):
    gaps = (h - alone).abs().max(1).values
    print(f"{name:<23} differs from running alone by " + ", ".join(f"{v:.0e}" for v in gaps) + "  (lengths 5, 2, 7, 3)")

# %% [markdown]
# Read as it is, the padded batch gives the wrong final state for every sequence shorter than the longest: the RNN
# went on reading pad tokens. Packing gives the final states of each sequence run alone (to float precision), and
# so does picking the state at the last real step. Padding at the *end* never changes the outputs at the real
# steps, because an RNN only looks back; so a per-step loss just has to skip the padded steps, which is what the mask
# (or `ignore_index` in `F.cross_entropy`) does:

# %%
gaps = {name: (h - alone).abs().max(1).values for name, h in (("padded", h_padded[0]), ("packed", h_packed[0]),
                                                                  ("picked", picked))}
results.claim("the padded batch gives the wrong final state for every sequence shorter than the longest",
              bool((gaps["padded"][lengths < lengths.max()] > 1e-3).all()), detail=f"{gaps['padded'].tolist()}")
results.claim("packing gives the final states of each sequence run alone, and so does picking the last real step",
              bool(gaps["packed"].max() < 1e-6 and gaps["picked"].max() < 1e-6),
              detail=f"largest gaps {gaps['packed'].max():.1e}, {gaps['picked'].max():.1e}")
with torch.no_grad():
    logits = nn.Linear(10, 8)(out_padded)                                        # (4, 7, 8): one output per step
    per_step = F.cross_entropy(logits.transpose(1, 2), padded, reduction="none")  # (4, 7)
    masked = (per_step * mask).sum() / mask.sum()                                # the mean over real steps only
    ignored = F.cross_entropy(logits.transpose(1, 2), padded.masked_fill(~mask, tasks.IGNORE_INDEX))
    same_outputs = all(torch.allclose(out_padded[b, :n], rnn(embed(seq)[None])[0][0], atol=1e-6)
                       for b, (seq, n) in enumerate(zip(sequences, lengths.tolist())))
assert torch.isclose(masked, ignored)
print(f"loss over real steps: with the mask {masked:.4f}, with ignore_index {ignored:.4f}, "
      f"over all steps including padding {per_step.mean():.4f}")
_ = results.claim("padding at the end never changes the outputs at the real steps", same_outputs)

# %% [markdown]
# ## 5. Backpropagation through time
#
# Training an unrolled network is ordinary backpropagation on the unrolled graph, called **backpropagation through
# time** (BPTT). Take a loss summed over steps, $L = \sum_t L_t(\hat y_t)$. The state $h_t$ influences the loss in two
# ways, through its own output $\hat y_t$ and through the next state $h_{t+1}$, so its gradient is gathered backwards
# in time:
#
# $$\frac{\partial L}{\partial h_t} = W_{hy}^\top \frac{\partial L_t}{\partial \hat y_t}
#   + \left(\frac{\partial h_{t+1}}{\partial h_t}\right)^{\!\top} \frac{\partial L}{\partial h_{t+1}},
#   \qquad \frac{\partial h_{t+1}}{\partial h_t} = \operatorname{diag}\!\left(1 - h_{t+1}^2\right) W_{hh}.$$
#
# Because the weights are shared, their gradient is the sum of the contributions of every step, e.g.
# $\partial L / \partial W_{hh} = \sum_t \big(\tfrac{\partial L}{\partial h_t} \odot (1 - h_t^2)\big)\, h_{t-1}^\top$.
# Here it is by hand, for a small RNN with a squared-error loss at every step:

# %%
def bptt_by_hand(W_xh, W_hh, b_h, W_hy, x, y):
    """Loss 0.5 * sum_t |W_hy h_t - y_t|^2 / B and its gradients, by a forward and a backward loop."""
    B, T, _ = x.shape
    hs = [x.new_zeros(B, W_hh.shape[0])]                       # h_0
    for t in range(T):                                         # forward: keep every state
        hs.append(torch.tanh(x[:, t] @ W_xh.T + hs[-1] @ W_hh.T + b_h))
    errors = [hs[t + 1] @ W_hy.T - y[:, t] for t in range(T)]  # dL_t/dy_hat_t, times B
    loss = sum((e**2).sum() for e in errors) / (2 * B)
    dW_xh, dW_hh, db_h, dW_hy = (torch.zeros_like(p) for p in (W_xh, W_hh, b_h, W_hy))
    dh = x.new_zeros(B, W_hh.shape[0])                         # dL/dh_{t}, arriving from step t+1
    for t in reversed(range(T)):                               # backward: from the last step to the first
        dW_hy += errors[t].T @ hs[t + 1] / B
        dh = dh + errors[t] @ W_hy / B                         # plus the path through the output y_hat_t
        da = dh * (1 - hs[t + 1] ** 2)                         # through tanh: dL/d(pre-activation)
        dW_xh += da.T @ x[:, t]
        dW_hh += da.T @ hs[t]
        db_h += da.sum(0)
        dh = da @ W_hh                                         # to the previous state, through W_hh
    return loss, (dW_xh, dW_hh, db_h, dW_hy)


# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(0)
params = [torch.randn(*shape, generator=g, dtype=torch.float64) * 0.5 for shape in [(6, 3), (6, 6), (6,), (2, 6)]]
x, y = torch.randn(4, 9, 3, generator=g, dtype=torch.float64), torch.randn(4, 9, 2, generator=g, dtype=torch.float64)
loss, by_hand = bptt_by_hand(*params, x, y)

leaves = [p.clone().requires_grad_() for p in params]
autograd_loss, _ = bptt_by_hand(*leaves, x, y)                 # reuse the forward pass, let autograd do the rest
autograd_loss.backward()
for name, ours, leaf in zip(["W_xh", "W_hh", "b_h", "W_hy"], by_hand, leaves):
    assert torch.allclose(ours, leaf.grad, rtol=1e-10, atol=1e-12), name
    print(f"dL/d{name:<5} {tuple(ours.shape)!s:<7} by hand = autograd (float64, to 1e-10)")

# %% [markdown]
# ## 6. Vanishing and exploding gradients
#
# Unroll the recursion for $\partial L / \partial h_t$ and keep only the path from the last step $T$ back to step $t$.
# With the step Jacobians $J_k = \partial h_k / \partial h_{k-1} = \operatorname{diag}(1 - h_k^2)\, W_{hh}$, the chain
# rule multiplies them from the last step down:
#
# $$\frac{\partial h_T}{\partial h_t} = J_T\, J_{T-1} \cdots J_{t+1}, \qquad
#   \frac{\partial L}{\partial h_t} = \Big(\frac{\partial h_T}{\partial h_t}\Big)^{\!\top} \frac{\partial L}{\partial h_T},
#   \qquad
#   \Big\lVert \frac{\partial L}{\partial h_t} \Big\rVert \le \big(\sigma_{\max}(W_{hh})\big)^{T-t}
#   \Big\lVert \frac{\partial L}{\partial h_T} \Big\rVert .$$
#
# A product of $T - t$ Jacobians. Two numbers describe how a matrix $W$ stretches vectors. The **largest singular
# value** $\sigma_{\max}(W) = \max_v \lVert Wv \rVert / \lVert v \rVert$ is the most it can stretch *any* vector in
# one step. The **spectral radius** $\rho(W)$, the largest eigenvalue magnitude, is the stretch of a direction that
# $W$ only rescales; it is never larger than $\sigma_{\max}$. Each Jacobian stretches by at most $\sigma_{\max}(W_{hh})$
# times the tanh derivative $1 - h^2 \le 1$. So:
#
# - if $\sigma_{\max} < 1$ the gradient from $T - t$ steps back shrinks at least geometrically: it is guaranteed to
#   **vanish**, and the network cannot learn that an early input mattered;
# - if $\sigma_{\max} > 1$ the bound allows growth but does not force it. Over many steps what counts is the
#   spectral radius: the average stretch per step of $n$ steps, $\lVert W^n \rVert^{1/n}$, tends to $\rho(W)$ as $n$
#   grows. Without the nonlinearity, gradients over long distances therefore vanish when $\rho < 1$ and can
#   **explode** when $\rho > 1$, whatever $\sigma_{\max}$ is; tanh's factors $1 - h^2 \le 1$ only pull them further down.
#
# To see the effect of the radius alone, we build $W_{hh} = r\,Q$ with $Q$ a random orthogonal matrix. Every
# singular value of $Q$ is 1, so $r$ is at once the largest singular value and the spectral radius. For a general
# matrix the two differ, e.g. for the default initialization of `nn.RNN`'s $W_{hh}$:

# %%
torch.manual_seed(cfg.seed)
W_default = nn.RNN(1, 128).weight_hh_l0.detach()
print(f"nn.RNN(1, 128) at initialization: spectral radius {torch.linalg.eigvals(W_default).abs().max():.2f}, "
      f"largest singular value {torch.linalg.matrix_norm(W_default, ord=2):.2f}")
W_orth = gradients.recurrent_matrix(128, 0.9, generator=torch.Generator().manual_seed(0))
print(f"0.9 * orthogonal:                  spectral radius {torch.linalg.eigvals(W_orth).abs().max():.2f}, "
      f"largest singular value {torch.linalg.matrix_norm(W_orth, ord=2):.2f}")

# %% [markdown]
# The default matrix stretches some vector by more than 1 in one step, yet its spectral radius is below 1. Which
# number wins over many steps? `gradients.power_norm_rates` computes $\lVert W^n \rVert^{1/n}$, the average stretch per
# step of a product of $n$ copies:

# %%
rates = gradients.power_norm_rates(W_default, 100)                  # (100,): n = 1, ..., 100
rho, sigma_max = torch.linalg.eigvals(W_default).abs().max().item(), torch.linalg.matrix_norm(W_default, ord=2).item()
fig, ax = plotting.new_figure(figsize=(6, 3.2))
ax.plot(range(1, 101), rates, color="#2b6cb0", lw=2, label="‖Wⁿ‖^(1/n): average stretch per step")
ax.axhline(sigma_max, color="#c53030", ls="--", label=f"largest singular value σ_max = {sigma_max:.2f}")
ax.axhline(rho, color="#2f855a", ls=":", lw=2, label=f"spectral radius ρ = {rho:.2f}")
ax.set(xscale="log", xlabel="number of steps n (log scale)", ylabel="stretch per step",
       title="nn.RNN(1, 128)'s default W_hh: σ_max > 1, yet products shrink")
ax.legend(fontsize=8)
ax.grid(alpha=0.3)
print(f"||W^n||^(1/n) at n = 1, 10, 100: {rates[0]:.3f}, {rates[9]:.3f}, {rates[99]:.3f}; "
      f"||W^60|| = {rates[59].item() ** 60:.1e}")
fig

# %% [markdown]
# After a single step the stretch is $\sigma_{\max}$; within a few steps it drops below 1 and settles towards $\rho$.
# So this matrix, despite $\sigma_{\max} > 1$, makes linear gradients vanish: a product of 60 copies has a norm far
# below 1. A largest singular value above 1 does not mean explosion; below 1 it does mean vanishing.

# %%
results.claim("this matrix has largest singular value above 1 and spectral radius below 1", rho < 1 < sigma_max,
              detail=f"rho {rho:.3f}, sigma_max {sigma_max:.3f}")
results.claim("within a few steps the stretch drops below 1 and settles towards rho",
              bool(rates[0] > 1 and (rates[4:] < 1).all() and abs(rates[-1] - rho) < 0.05 * rho),
              detail=f"n=1 {rates[0]:.3f}, n=5 {rates[4]:.3f}, n=100 {rates[-1]:.3f}, rho {rho:.3f}")
_ = results.claim("a product of 60 copies has a norm far below 1", rates[59].item() ** 60 < 1e-3,
                  detail=f"||W^60|| = {rates[59].item() ** 60:.1e}")

# %% [markdown]
# Now the measurement. Run an RNN with $W_{hh} = rQ$ for 60 steps on random inputs, take as loss a fixed linear
# function of the last state, $L = \sum_i h_{T,i} / \sqrt{H}$, and ask autograd for $\partial L / \partial h_t$ at
# every step (`retain_grad` keeps the gradient of an intermediate tensor):

# %%
def gradient_norms_by_distance(W_hh, W_xh, x, f=torch.tanh):
    """||dL/dh_t|| averaged over the batch, listed by distance T - t (entry 0 is the last step)."""
    h = torch.zeros(x.shape[0], W_hh.shape[0], requires_grad=True)
    states = []
    for t in range(x.shape[1]):
        h = f(x[:, t] @ W_xh.T + h @ W_hh.T)                  # (B, H)
        h.retain_grad()
        states.append(h)
    readout = torch.ones(W_hh.shape[0]) / W_hh.shape[0] ** 0.5
    (h @ readout).sum().backward()
    return [s.grad.norm(dim=1).mean().item() for s in reversed(states)]


# %%
g = torch.Generator().manual_seed(cfg.seed)
W_xh, x = torch.randn(64, 8, generator=g) / 8**0.5, torch.randn(32, 60, 8, generator=g)
for r in (0.5, 1.0, 2.0):
    norms = gradient_norms_by_distance(gradients.recurrent_matrix(64, r, generator=g), W_xh, x)
    print(f"r = {r}: ||dL/dh_t|| at distance 0, 10, 30, 59 = " + ", ".join(f"{norms[d]:.1e}" for d in (0, 10, 30, 59)))

# %% [markdown]
# `gradients.hidden_gradient_norms` is the same measurement as a course helper (with a choice of nonlinearity)
# `gradients.gradient_norm_curves` runs it for many radii, nonlinearities and input strengths on shared inputs. From here
# on we use them. First a check that the helper agrees with the code above:

# %%
# NBVAL_CHECK_OUTPUT
g = torch.Generator().manual_seed(1)
W_hh, W_xh, x = gradients.recurrent_matrix(16, 1.2, generator=g), torch.randn(16, 3, generator=g), torch.randn(5, 20, 3, generator=g)
ours = torch.tensor(gradient_norms_by_distance(W_hh, W_xh, x))
helper = gradients.hidden_gradient_norms(W_hh, W_xh, x, "tanh", readout=torch.ones(16) / 4)
assert torch.allclose(ours, helper, rtol=1e-5)
print(f"gradients.hidden_gradient_norms matches the loop above at all {len(ours)} distances")

# %%
radii = [0.5, 0.9, 1.0, 1.1, 1.5, 2.0]
curves = gradients.gradient_norm_curves(radii, nonlinearities=("tanh", "identity"), num_steps=60, seed=cfg.seed)
fig = views.gradient_curves_figure(curves, nonlinearities=("tanh", "identity"),
                                   title="How much gradient reaches a state T − t steps back (W_hh = r · orthogonal)")
fig

# %%
factors = {}                                                  # (nonlinearity, r) -> average factor per step back
for (nonlinearity, r, _), norms in curves.items():
    d = int((norms > 0).nonzero().max())                      # the last distance before float32 underflows to 0
    factors[(nonlinearity, r)] = ((norms[d] / norms[0]).item() ** (1 / d), d)
print(f"{'':<10}" + "".join(f"{'r = ' + format(r, 'g'):>11}" for r in radii) + "   average factor per step back")
for nonlinearity in ("tanh", "identity"):
    print(f"{nonlinearity:<10}" + "".join(f"{factors[(nonlinearity, r)][0]:>10.3f}{'*' if factors[(nonlinearity, r)][1] < 59 else ' '}"
                                          for r in radii))
print("* over the first", ", ".join(f"{d} steps (r = {r:g})" for (n, r), (f, d) in factors.items() if n == "tanh" and d < 59),
      "only: beyond, the norm underflows to exactly 0 in float32")

# %% [markdown]
# Read the right panel first. Without a nonlinearity every step multiplies the gradient's norm by exactly $r$
# (the table's factors equal the radii): straight lines on a log scale, falling for $r < 1$, flat at $r = 1$,
# rising for $r > 1$. The left panel is the real tanh network. Its factor per step is always *below* $r$, because
# saturated units ($|h| \to 1$) pass almost no gradient: tanh turns some would-be explosions into vanishing, and
# only the largest radius still makes the gradient grow. For $r = 0.5$ the gradient becomes so small that float32
# rounds it to exactly 0 (the line stops; its factor is taken over the steps before that). Only one curve keeps the
# gradient at its size, the identity at exactly $r = 1$; in the tanh network the gradient from 60 steps back is orders
# of magnitude smaller than at the last step for every radius up to 1.5. Learning a dependency that long from such a
# signal is hard.

# %%
tanh_f, identity_f = ({r: factors[(n, r)][0] for r in radii} for n in ("tanh", "identity"))
results.claim("without a nonlinearity the table's factors equal the radii",
              all(abs(identity_f[r] - r) < 1e-3 * r for r in radii), detail=f"{identity_f}")
results.claim("the tanh factor per step is always below r, and only the largest radius still makes the gradient grow",
              all(tanh_f[r] < r for r in radii) and [r for r in radii if tanh_f[r] > 1] == [max(radii)],
              detail=", ".join(f"r={r:g}: {f:.3f}" for r, f in tanh_f.items()))
far = {r: (curves[("tanh", r, 1.0)][-1] / curves[("tanh", r, 1.0)][0]).item() for r in radii}
_ = results.claim("in the tanh network the gradient from 60 steps back is orders of magnitude smaller than at the last "
                  "step for every radius up to 1.5", all(far[r] < 1e-2 for r in radii if r <= 1.5),
                  detail=", ".join(f"r={r:g}: {v:.1e}" for r, v in far.items()))

# %% [markdown]
# **Vanishing/exploding explorer.** Slide the radius, switch the nonlinearity, and change the strength of the
# inputs. The dashed line is $r^{T-t}$ (in the live view and in the static picture below it): the exact answer for
# the identity, the upper bound for tanh. Notice how stronger inputs saturate tanh and bend its curve down. Weak
# inputs saturate it little, but only at small radii: from $r = 1.5$ the state grows by itself until the units
# saturate, so even at input scale 0.1 the tanh curve for $r = 2$ rises far more slowly than $2^{T-t}$. ReLU passes
# the gradient only through its active units (about half of them), so at $r = 1$ its gradient still vanishes; but it
# never saturates, so large radii explode.

# %%
step = cfg.radius_step
explorer_radii = [round(0.5 + step * i, 2) for i in range(int(round(1.5 / step)) + 1)]  # 0.5 ... 2.0
explorer_curves = gradients.gradient_norm_curves(explorer_radii, nonlinearities=("tanh", "relu", "identity"),
                                                 input_scales=(0.1, 1.0, 3.0), num_steps=60, seed=cfg.seed)
print(f"{len(explorer_curves)} curves precomputed: radius 0.5 to 2.0 in steps of {step}, 3 nonlinearities, 3 input scales")

# %% tags=["nbval-ignore-output"]
explorer = views.gradient_view(explorer_curves, radius=1.0, nonlinearity="tanh", input_scale=1.0)
static = views.gradient_curves_figure(explorer_curves, nonlinearities=("tanh", "relu", "identity"), input_scale=0.1,
                                      radii=[0.5, 1.0, 1.5, 2.0], show_bound=True,
                                      title="Weak inputs (input scale 0.1): saturation only from the radius itself")
widgets.show(explorer, static)

# %%
per_step = {(n, r): ((c[-1] / c[0]).item() ** (1 / 59)) for (n, r, scale), c in explorer_curves.items() if scale == 0.1}
results.claim("even at input scale 0.1 the tanh curve for r = 2 rises far more slowly than 2^(T-t)",
              per_step[("tanh", 2.0)] < 1.5, detail=f"tanh factor per step at r = 2: {per_step[('tanh', 2.0)]:.3f}")
_ = results.claim("ReLU's gradient still vanishes at r = 1, and large radii explode",
                  per_step[("relu", 1.0)] < 0.95 and per_step[("relu", 2.0)] > 1.05,
                  detail=f"ReLU factor per step: r = 1 {per_step[('relu', 1.0)]:.3f}, r = 2 {per_step[('relu', 2.0)]:.3f}")

# %% [markdown]
# ## 7. Gradient clipping by norm
#
# Large gradients have a blunt, effective cure. Treat all parameter gradients as one long vector $g$; if its
# norm exceeds a threshold $c$, scale it down to length $c$:
#
# $$g \leftarrow g \cdot \min\!\left(1, \frac{c}{\lVert g \rVert}\right).$$
#
# The direction is kept and only the gradient's length is capped, so one cliff in the loss surface (a narrow
# region where the loss changes steeply, Pascanu et al. 2013) cannot throw the weights far away. PyTorch's `torch.nn.utils.clip_grad_norm_(parameters, c)` does this in place and returns $\lVert g\rVert$
# measured before clipping (exercise 1 asks you to write it).
#
# To see it work we need a model and a task. The model is the many-to-one shape of section 4 for token inputs:
# an **embedding** turns each token id into a learned vector, a (multi-layer) RNN reads the vectors, and a linear
# head classifies the last state. Its recurrent matrices start orthogonal, at $r = 1$, the edge between the two
# regimes of section 6:

# %%
class SequenceClassifier(nn.Module):
    """Embedding -> RNN (num_layers) -> linear head on the last step's state: many-to-one."""

    def __init__(self, vocab_size, num_classes, embed_dim=16, hidden_dim=64, num_layers=1):
        super().__init__()
        self.embedding = nn.Embedding(vocab_size, embed_dim)
        self.rnn = nn.RNN(embed_dim, hidden_dim, num_layers=num_layers, batch_first=True)
        self.head = nn.Linear(hidden_dim, num_classes)
        for name, weight in self.rnn.named_parameters():
            if name.startswith("weight_hh"):
                nn.init.orthogonal_(weight)

    def forward(self, tokens):                      # (B, T) token ids
        out, _ = self.rnn(self.embedding(tokens))   # (B, T, H)
        return self.head(out[:, -1])                # (B, num_classes)


# %% [markdown]
# The task is **recall**: a sequence of random tokens from a vocabulary of 8, and the label is the *first* token.
# The `distance` tokens after it are distractors drawn from the same vocabulary, so the network must hold the first
# one in its state for `distance` steps. Guessing gives 1/8 = 12.5 %.

# %%
X, y = tasks.recall_task(3, distance=6, generator=torch.Generator().manual_seed(0))
for tokens, label in zip(X.tolist(), y.tolist()):
    print(f"tokens {tokens} -> label {label}")

# %%
def train_recall(model, distance, steps, optimizer, max_norm=None, batch_size=128, seed=0):
    """Train on fresh recall batches; returns losses, gradient norms (before clipping), step lengths, test accuracy."""
    g, run = torch.Generator().manual_seed(seed), {"loss": [], "grad_norm": [], "step_length": []}
    for _ in range(steps):
        X, y = tasks.recall_task(batch_size, distance, generator=g)
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        run["grad_norm"].append(nn.utils.clip_grad_norm_(model.parameters(), max_norm or float("inf")).item())
        before = nn.utils.parameters_to_vector(model.parameters()).detach()
        optimizer.step()
        run["step_length"].append((nn.utils.parameters_to_vector(model.parameters()).detach() - before).norm().item())
        run["loss"].append(loss.item())
    X, y = tasks.recall_task(2000, distance, generator=torch.Generator().manual_seed(12345))
    with torch.no_grad():
        run["accuracy"] = (model(X).argmax(1) == y).float().mean().item()
    return run


# %% [markdown]
# An unstable run: recall over distance 20, with $W_{hh}$ started at $r = 2$, the radius at which section 6
# measured growing gradients even through tanh, trained with plain SGD and momentum 0.9 at learning rate 0.1 (Adam
# would partly hide large gradients, because it divides every step by a running average of the gradient's size).
# Once without clipping, once with $c = 1$, for three seeds. Besides the accuracy we record every gradient norm
# (before clipping) and the length of every step the weights actually take:

# %%
clip_runs = {}
for seed in range(3):
    for max_norm in (None, 1.0):
        torch.manual_seed(seed)
        model = SequenceClassifier(vocab_size=8, num_classes=8)
        with torch.no_grad():
            model.rnn.weight_hh_l0.copy_(gradients.recurrent_matrix(64, 2.0, generator=torch.Generator().manual_seed(seed)))
        optimizer = torch.optim.SGD(model.parameters(), lr=0.1, momentum=0.9)
        clip_runs[(seed, max_norm)] = train_recall(model, 20, cfg.clip_steps, optimizer, max_norm=max_norm, seed=seed)

# %%
print(f"{'':<12}{'test accuracy per seed':>24}{'largest ‖g‖':>13}{'‖g‖ at step 10':>16}{'longest step':>14}"
      f"{'mean loss, last 50':>20}")
for max_norm in (None, 1.0):
    runs = [clip_runs[(seed, max_norm)] for seed in range(3)]
    accuracies = ", ".join(f"{run['accuracy']:.0%}" for run in runs)
    print(f"{'no clipping' if max_norm is None else 'clip at 1':<12}{accuracies:>24}"
          f"{max(max(r['grad_norm']) for r in runs):>13.1f}{max(r['grad_norm'][9] for r in runs):>16.2f}"
          f"{max(max(r['step_length']) for r in runs):>14.3f}{max(sum(r['loss'][-50:]) / 50 for r in runs):>20.3f}")
print("(largest over the three seeds; the step length is the norm of the change of all weights in one update)")

# %%
fig = views.clipping_figure({"no clipping": clip_runs[(0, None)], "clipped at c = 1": clip_runs[(0, 1.0)]},
                            threshold=1.0, chance_loss=math.log(8),
                            title="Recall over 20 steps, plain RNN with W_hh started at r = 2, SGD + momentum (seed 0)")
fig

# %% [markdown]
# Compare the two colours. Both runs start with the same large gradients (the right panel). Unclipped, SGD turns
# them into steps many times longer than the clipped run's, and within ten steps the gradient norm falls far below
# where it started: a few large early steps have thrown the run onto a plateau, a flat region where the loss stays
# near that of guessing ($\ln 8$), much closer to it than to the clipped runs' loss, and the small gradients lead
# almost nowhere within the budget. None of the three unclipped seeds gets beyond 25 % accuracy (chance is 1 in 8,
# 12.5 %). Clipped, the steps stay short, every seed learns far above chance (the table shows how far;
# 300 steps are not always enough to finish), and its gradient norms are the *larger* ones: the run stays in the
# region where the loss surface has its steep walls, and meets its largest gradients later, while it learns.
# Clipping is what lets it cross them. So this run is not one whose gradients explode without clipping;
# it is one that large early steps derail.
#
# A caution about "step length". Clipping caps the *gradient* at $c$, but with momentum $\beta$ the step is the
# learning rate times a running sum of past gradients, $v \leftarrow \beta v + g$, which can reach
# $\lVert v \rVert \approx c / (1 - \beta)$ when successive gradients point the same way: up to 10 times $c$ times the
# learning rate here. The table's longest clipped step lies between the two. Clipping does not fix *vanishing*
# gradients: it only ever shortens a gradient.

# %%
unclipped, clipped = ([clip_runs[(seed, m)] for seed in range(3)] for m in (None, 1.0))
results.claim("within ten steps the unclipped gradient norm falls far below where it started",
              all(r["grad_norm"][9] < r["grad_norm"][0] / 4 for r in unclipped),
              detail=", ".join(f"{r['grad_norm'][0]:.1f} -> {r['grad_norm'][9]:.2f}" for r in unclipped))
results.claim("unclipped, SGD takes steps many times longer than the clipped run's",
              min(max(r["step_length"][:10]) for r in unclipped) > 3 * max(max(r["step_length"][:10]) for r in clipped),
              detail=f"longest of the first 10 steps: {[round(max(r['step_length'][:10]), 3) for r in unclipped]} vs "
                     f"{[round(max(r['step_length'][:10]), 3) for r in clipped]}")
final_loss = {id(r): sum(r["loss"][-50:]) / 50 for r in unclipped + clipped}  # mean over the last 50 steps
midway = (math.log(8) + max(final_loss[id(r)] for r in clipped)) / 2        # halfway from the clipped runs to guessing
results.claim("the unclipped loss stays much closer to that of guessing than to the clipped runs' loss, and none of "
              "the three unclipped seeds gets beyond 25 % accuracy",
              all(final_loss[id(r)] > midway and r["accuracy"] < 0.25 for r in unclipped),
              detail=", ".join(f"loss {final_loss[id(r)]:.3f}, acc {r['accuracy']:.0%}" for r in unclipped)
              + f"; halfway to guessing: {midway:.3f}")
results.claim("clipped, every seed learns far above chance, its gradient norms are the larger ones, met later",
              all(r["accuracy"] > 0.5 and r["grad_norm"].index(max(r["grad_norm"])) > 20 for r in clipped)
              and max(max(r["grad_norm"]) for r in clipped) > max(max(r["grad_norm"]) for r in unclipped),
              detail=f"accuracies {[round(r['accuracy'], 3) for r in clipped]}, largest norm at steps "
                     f"{[r['grad_norm'].index(max(r['grad_norm'])) for r in clipped]}")
lr, beta, c = 0.1, 0.9, 1.0
longest = max(max(r["step_length"]) for r in clipped)
_ = results.claim("the longest clipped step lies between c times the learning rate and c / (1 - beta) times it",
                  c * lr < longest <= c * lr / (1 - beta) * (1 + 1e-4), detail=f"{longest:.3f} vs {c * lr:.1f} and {c * lr / (1 - beta):.1f}")

# %% [markdown]
# ## 8. Truncated backpropagation through time
#
# BPTT over a whole sequence stores every state and costs as much time backwards as forwards. For a stream of
# millions of characters (chapter 03) that is impossible. **Truncated BPTT** cuts the stream into chunks of `k`
# steps. The state is carried from one chunk to the next, so the forward pass still sees the whole past, but it is
# *detached*: the gradient stops at the chunk boundary. In code, that is one `.detach()`:

# %%
def train_truncated(model, X, Y, chunk, lr=3e-3, epochs=2):
    """Many-to-many training on streams X -> Y (B, L), updating after every chunk of `chunk` steps."""
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    for _ in range(epochs):
        h = None                                              # a fresh state at the start of each pass
        for start in range(0, X.shape[1], chunk):
            out, h = model.rnn(model.embedding(X[:, start : start + chunk]), h)  # (B, chunk, H)
            h = h.detach()                                    # keep the value, cut the gradient
            loss = F.cross_entropy(model.head(out).flatten(0, 1), Y[:, start : start + chunk].flatten())
            optimizer.zero_grad()
            loss.backward()
            nn.utils.clip_grad_norm_(model.parameters(), 1.0)
            optimizer.step()
    return model


# %% [markdown]
# The same `SequenceClassifier`, now used many-to-many: its head classifies every step's state. What does the cut
# cost? The **echo** task asks at every step for the token seen `lag` steps earlier. A dependency of `lag` steps
# can only be learned if the gradient can travel `lag` steps back, so it needs chunks longer than the lag. We train
# on 32 streams with lag 4 and chunks of 2, 4, 8 and 16 steps, then test on fresh streams:

# %%
g = torch.Generator().manual_seed(cfg.seed)
lag = 4
X_stream, Y_stream = tasks.echo_stream(32, cfg.stream_length, lag=lag, generator=g)
X_fresh, Y_fresh = tasks.echo_stream(200, 200, lag=lag, generator=g)
echo_accuracy = {}
for chunk in (2, 4, 8, 16):
    torch.manual_seed(cfg.seed)
    model = train_truncated(SequenceClassifier(vocab_size=8, num_classes=8), X_stream, Y_stream, chunk)
    with torch.no_grad():
        predicted = model.head(model.rnn(model.embedding(X_fresh))[0]).argmax(-1)  # (200, 200)
    echo_accuracy[chunk] = (predicted[:, lag:] == Y_fresh[:, lag:]).float().mean().item()
    print(f"chunks of {chunk:>2} steps: echo accuracy {echo_accuracy[chunk]:.0%} (chance 12.5 %)")

# %% [markdown]
# With chunks no longer than the lag, no gradient ever connects a target to the input it asks about, and the
# network does not learn the echo properly. It still does better than chance, most likely because the carried
# state holds some trace of older tokens anyway, and the gradients inside each chunk teach the head and $W_{hh}$ to
# read and keep a little of that trace; what they cannot teach is to store a token on purpose for `lag` steps. Once
# chunks are longer than the lag, the network learns the echo (95 % or more). Truncation sets a horizon: the chunk length must
# exceed the dependencies you want the network to learn, while the state itself can carry information further.

# %%
short, long_ = [echo_accuracy[k] for k in echo_accuracy if k <= lag], [echo_accuracy[k] for k in echo_accuracy if k > lag]
results.claim("with chunks no longer than the lag the network does not learn the echo properly, but does better than chance",
              all(0.125 + 0.05 < a < 0.6 for a in short), detail=f"chunks <= lag: {[f'{a:.0%}' for a in short]}")
_ = results.claim("once chunks are longer than the lag, the network learns the echo (95 % or more)",
                  all(a >= 0.95 for a in long_), detail=f"chunks > lag: {[f'{a:.0%}' for a in long_]}")

# %% [markdown]
# ## 9. A real task: Fashion-MNIST read row by row
#
# An image is a sequence too: 28 rows, read top to bottom. The standard version of this exercise (Le et al. 2015)
# feeds the raw rows, 28 numbers per step, straight into `nn.RNN(28, H)`. We read *tokens* instead, for one reason:
# so that this section trains exactly the model shape of sections 7, 8 and 10 and of chapter 03's text models,
# embedding → RNN → head, on real data. The price is some detail (seen below) and a lower ceiling on accuracy than
# raw rows would allow.
#
# The tokens come from a vocabulary of **row prototypes** found by **k-means**, a clustering method: start from
# `cfg.num_tokens` rows picked at random as prototypes, give every training row to its nearest prototype, move each
# prototype to the mean of its rows, and repeat a few times. Each row is then replaced by the index of its nearest
# prototype, and each image becomes 28 tokens:

# %%
codebook = tasks.fit_row_codebook(ds.X_train, num_tokens=cfg.num_tokens, seed=cfg.seed)  # (K, 28)
tokens_train = tasks.rows_to_tokens(ds.X_train, codebook)                               # (N, 28) int64
tokens_test = tasks.rows_to_tokens(ds.X_test, codebook)
print("codebook", tuple(codebook.shape), "| train tokens", tuple(tokens_train.shape), "| test tokens", tuple(tokens_test.shape))
print("tokens of test image 0:", tokens_test[0].tolist())

# %%
rebuilt = tasks.tokens_to_images(tokens_test[:8], codebook)
fig = plotting.image_row(torch.cat([ds.X_test[:8], rebuilt]), ncols=8, size=1.0,
                         titles=[ds.classes[int(c)] for c in ds.y_test[:8]] + ["from tokens"] * 8,
                         suptitle="test images (top) and the same images rebuilt from their 28 row tokens (bottom)")
fig

# %% [markdown]
# Some detail is lost, but the garments stay recognizable. Note the repeated token at both ends of image 0: the
# blank rows above and below a garment all map to one "empty row" prototype. The classifier is the `SequenceClassifier` of section 7
# with a bigger embedding and state and **two** recurrent layers:

# %%
# NBVAL_CHECK_OUTPUT
torch.manual_seed(cfg.seed)
rnn_classifier = SequenceClassifier(vocab_size=cfg.num_tokens, num_classes=10, embed_dim=64, hidden_dim=128, num_layers=2)
print(rnn_classifier)
tokens = tokens_test[:2]
states, _ = rnn_classifier.rnn(rnn_classifier.embedding(tokens))
print(f"tokens {tuple(tokens.shape)} -> embedded {tuple(rnn_classifier.embedding(tokens).shape)} "
      f"-> states {tuple(states.shape)} -> logits {tuple(rnn_classifier(tokens).shape)}")
print(f"parameters: {train.count_parameters(rnn_classifier):,}")

# %% [markdown]
# Training uses chapter 01's `train.fit` and its `classification_step`, here with `max_norm=1.0`: the gradient norm
# is clipped at 1 before every update (recurrent networks are trained with clipping as a matter of routine). Adam
# with a one-cycle schedule, and the test set only watched:

# %%
train_loader = batches.Batches(tokens_train, ds.y_train, batch_size=cfg.batch_size, shuffle=True, drop_last=True, seed=cfg.seed)
test_loader = batches.Batches(tokens_test, ds.y_test, batch_size=1000)
optimizer = torch.optim.Adam(rnn_classifier.parameters(), lr=cfg.lr)
scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=cfg.lr, pct_start=0.25,
                                                total_steps=cfg.num_epochs * len(train_loader))
rnn_history = train.fit(rnn_classifier, train_loader, num_epochs=cfg.num_epochs, optimizer=optimizer, scheduler=scheduler,
                        step=train.classification_step(max_norm=1.0), val_loader=test_loader, monitor=None,
                        live_plot=False)

# %%
curves_by_split = {"epoch": rnn_history["epoch"]} | {f"{split}_{what}": rnn_history[f"{key}_{what}"]
                                                     for split, key in (("train", "train"), ("test", "val"))
                                                     for what in ("loss", "acc")}
fig = plotting.plot_history(curves_by_split, title="Embedding → 2-layer RNN → linear on Fashion-MNIST row tokens "
                                                   "(the test set is only watched, never used to choose)")
fig.axes[1].set_ylabel("accuracy")
fig

# %%
rnn_accuracy = rnn_history["val_acc"][-1]
rnn_seconds = sum(rnn_history["seconds"])
print(f"test accuracy {rnn_accuracy:.2%} after {cfg.num_epochs} epochs ({rnn_seconds:.0f} s of training, "
      f"{train.count_parameters(rnn_classifier):,} parameters)")

# %% [markdown]
# The model only ever sees the image as 28 row tokens, one at a time, and still classifies most test images
# correctly. It is below chapter 01's CNN (above 90 %), which sees all pixels at once through shared 2-D filters; the
# point here is the recurrent machinery, not the best image model.

# %%
_ = results.claim("the row-token RNN classifies most test images correctly, below chapter 01's CNN (above 90 %)",
                  0.5 < rnn_accuracy < 0.9, detail=f"test accuracy {rnn_accuracy:.2%}")

# %% [markdown]
# How far back does the trained network look? `gradients.input_gradient_norms` measures the gradient of the true class's
# logit with respect to each row's embedding: a large norm means the decision is sensitive to that row.

# %%
X_probe, y_probe = tokens_test[:500], ds.y_test[:500]
row_sensitivity = gradients.input_gradient_norms(
    lambda e: rnn_classifier.head(rnn_classifier.rnn(e)[0][:, -1]).gather(1, y_probe[:, None]),
    rnn_classifier.embedding(X_probe))                          # (28,): one norm per row
blank = tasks.rows_to_tokens(torch.zeros(1, 1, 28, 28), codebook)[0, 0]     # the token of an empty row
blank_share = (X_probe == blank).float().mean(0)                             # (28,): per row, images where it is empty
fig, ax = plotting.new_figure(figsize=(6.4, 3.2))
ax.plot(range(28), row_sensitivity.numpy(), marker="o", ms=3, color="#2b6cb0")
ax.set(xlabel="row (0 = top, read first; 27 = bottom, read last)", ylabel="‖∂ logit / ∂ row embedding‖",
       title="Sensitivity of the trained 2-layer RNN's decision to each row", ylim=(0, None))
ax.grid(alpha=0.3)
lowest = row_sensitivity.argmin().item()
print(f"most sensitive row: {row_sensitivity.argmax().item()}; least sensitive row: {lowest}; "
      f"row 27 / row {lowest}: {row_sensitivity[-1] / row_sensitivity[lowest]:.1f}x; row 0 / row {lowest}: "
      f"{row_sensitivity[0] / row_sensitivity[lowest]:.1f}x")
print("share of the probe images whose row is the empty-row token: "
      + " ".join(f"{r}:{blank_share[r]:.0%}" for r in (0, 3, 6, 9, 14, 19, 22, 25, 27)))
fig

# %% [markdown]
# Read the curve together with section 6. It is U-shaped: from the last row backwards the sensitivity falls, to a
# minimum a few rows below the top, and then rises again towards row 0 (the printed line says which row is the most
# sensitive, and how far each end lies above the minimum). The falling part is section 6's story: a row read $k$
# steps before the end reaches the decision through $k$ Jacobian factors, and the training gradient travels the same
# path, so the rows where the curve is low also send the weakest training signal. It is gentle compared with the
# random-weight curves of section 6 (a linear axis, so the size of the effect is drawn as it is). Two cautions about
# the rest. The top and bottom rows are far more often the empty-row token than the middle rows (the printed shares),
# so there the "sensitivity" measures what the network does with *position*, an empty row at a given step, more than
# with content. And the first rows are read by a state that starts at zero, where tanh is steepest, which is one
# likely reason for the rise at the top.

# %%
results.claim("it is U-shaped: the sensitivity falls to a minimum a few rows below the top, then rises towards row 0",
              1 <= lowest <= 12 and bool(row_sensitivity[27] > row_sensitivity[lowest] < row_sensitivity[0]),
              detail=f"largest at row {row_sensitivity.argmax().item()}, smallest at row {lowest}")
_ = results.claim("the top and bottom rows are far more often the empty-row token than the middle rows",
                  bool(min(blank_share[0], blank_share[27]) > blank_share[14] + 0.2),
                  detail=f"row 0 {blank_share[0]:.0%}, row 14 {blank_share[14]:.0%}, row 27 {blank_share[27]:.0%}")

# %% [markdown]
# ## 10. How far back can a plain RNN remember?
#
# The recall task makes the distance a dial. For each distance we train fresh `SequenceClassifier`s (one layer,
# 64 units) with Adam, clipping at 1, on fresh batches for the same number of steps, and measure accuracy on new
# sequences. Whether a run learns the task within the budget depends on its random start, so each distance gets
# several seeds:

# %%
def recall_accuracy(distance, steps, seed=0, lr=3e-3):
    """Train a fresh one-layer RNN on recall over `distance` steps; returns its test accuracy."""
    torch.manual_seed(seed)
    model = SequenceClassifier(vocab_size=8, num_classes=8)
    optimizer = torch.optim.Adam(model.parameters(), lr=lr)
    return train_recall(model, distance, steps, optimizer, max_norm=1.0, seed=seed)["accuracy"]


recall_results = {}
for distance in cfg.recall_distances:
    start = time.perf_counter()
    recall_results[distance] = [recall_accuracy(distance, cfg.recall_steps, seed=seed) for seed in range(cfg.recall_seeds)]
    print(f"distance {distance:>2}: accuracy per seed " + ", ".join(f"{a:6.1%}" for a in recall_results[distance])
          + f"   ({time.perf_counter() - start:.1f} s)")

# %%
fig = views.recall_figure(recall_results, steps=cfg.recall_steps)
distances = list(recall_results)
solved = [d for d, accs in recall_results.items() if min(accs) >= 0.9]
mean_accuracy = {d: sum(accs) / len(accs) for d, accs in recall_results.items()}
print(f"solved by every run (>= 90 %) up to distance {max(solved) if solved else 'none'}; mean accuracy by distance: "
      + ", ".join(f"{d}: {a:.0%}" for d, a in mean_accuracy.items()))
print("runs that learned (>= 90 %): " + ", ".join(f"{d}: {sum(a >= 0.9 for a in accs)}/{len(accs)}" for d, accs in recall_results.items()))
fig

# %% [markdown]
# The printed lines are the answer for this budget. At short distances every run learns the task completely. As
# the distance grows, fewer runs take off within the same number of steps (at the two longest distances fewer than
# at the two shortest), and the others end below 90 %, some of them near chance (below 30 %): the gradient that would tell the embedding and $W_{hh}$ to keep the first token must cross every
# step back to the start (section 6), and what arrives shrinks with the distance. (Our models start at $r = 1$;
# exercise 4 asks what the default initialization does instead.) Chapter 03 reruns this experiment with an LSTM
# and a GRU, whose additive state update is designed to let gradients survive, and tests whether they do better here.

# %%
learned = [sum(a >= 0.9 for a in recall_results[d]) for d in distances]
results.claim("at short distances every run learns the task completely", min(recall_results[distances[0]]) >= 0.99,
              detail=f"distance {distances[0]}: {recall_results[distances[0]]}")
results.claim("at the two longest distances fewer runs take off than at the two shortest",
              sum(learned[-2:]) < sum(learned[:2]), detail=f"runs >= 90 % by distance: {learned}")
failed = [a for d in distances for a in recall_results[d] if a < 0.9]
_ = results.claim("the others end below 90 %, some of them near chance (below 30 %)", bool(failed) and min(failed) < 0.3,
                  detail=f"runs below 90 %: {sorted(round(a, 3) for a in failed)}")

# %% [markdown]
# ## Summary
#
# | idea | what to remember |
# |---|---|
# | recurrent state | $h_t = \tanh(W_{xh}x_t + W_{hh}h_{t-1} + b)$, $\hat y_t = W_{hy}h_t + b_y$; one set of weights for every step and any length |
# | unrolling | an RNN over $T$ steps is a $T$-layer feed-forward net with shared weights |
# | task shapes | many-to-one (last state → head), aligned many-to-many (every state → head), encoder–decoder (final state starts a decoder), one-to-many (a vector sets $h_0$, outputs fed back) |
# | teacher forcing | in training the decoder reads the true previous token; at test time its own prediction, so errors can compound |
# | variable lengths | pad to the longest, mask padded steps out of the loss, pack (or pick the last real step) for final states |
# | BPTT | ordinary backprop on the unrolled graph; shared weights sum their gradients over steps |
# | vanishing / exploding | $\partial L/\partial h_t$ is the product $J_T \cdots J_{t+1}$ of Jacobians $\operatorname{diag}(1-h^2)W_{hh}$, bounded by $\sigma_{\max}(W_{hh})^{T-t}$: $\sigma_{\max} < 1$ guarantees vanishing; the long-run rate is set by the spectral radius |
# | clipping | rescale the whole gradient to norm $c$ when it is longer; keeps large gradients from derailing a run (with momentum a step can still reach $c/(1-\beta)$ times the learning rate); does not fix vanishing |
# | truncated BPTT | carry the state across chunks but `detach` it: learnable dependencies are limited by the chunk length |
# | plain RNN in practice | learns real tasks, but its memory for exact information fades within a few dozen steps |
#
# The numbers this run produced:

# %%
print(f"Fashion-MNIST as 28 row tokens, embedding -> 2-layer RNN -> linear: test accuracy {rnn_accuracy:.2%} "
      f"with {train.count_parameters(rnn_classifier):,} parameters, {rnn_seconds:.0f} s of training on {device}")
print(f"recall: solved by all {cfg.recall_seeds} runs (>= 90 %) after {cfg.recall_steps} steps up to distance "
      f"{max(solved) if solved else 'none'}; mean accuracy at the longest distance ({distances[-1]}): {mean_accuracy[distances[-1]]:.0%}")
print(f"encoder-decoder reversing {cfg.reverse_length} tokens: greedy token accuracy {greedy_acc.mean():.1%}, "
      f"teacher-forced {forced_acc.mean():.1%}")
print("unstable run (r = 2, SGD + momentum): test accuracy without clipping "
      + ", ".join(f"{clip_runs[(s, None)]['accuracy']:.0%}" for s in range(3)) + "; with clipping "
      + ", ".join(f"{clip_runs[(s, 1.0)]['accuracy']:.0%}" for s in range(3)))
print("echo with lag 4, truncated BPTT: " + ", ".join(f"chunk {k}: {a:.0%}" for k, a in echo_accuracy.items()))

# Headline numbers for the course benchmarks (stored only when COURSE_RESULTS names a file).
from course_utils.results import record

record("rnn_row_classifier_accuracy", rnn_accuracy, unit="fraction")
record("recall_rnn_accuracy", mean_accuracy, unit="fraction", note="plain RNN, mean over seeds, by distance")
record("recall_rnn_longest_solved", max(solved) if solved else 0, unit="tokens")

# %% [markdown]
# ## Exercises
#
# Each exercise has a hidden solution cell (click the "…" to expand it) and a check you can run on your own
# answer. Write your answer in a new cell above the check, or replace the solution.
#
# **Exercise 1: clipping by norm.** Write `clip_by_total_norm(parameters, max_norm)`: compute the norm of all
# gradients together (as one long vector), scale every gradient in place by `max_norm / norm` if that norm is
# larger than `max_norm`, and return the norm measured before clipping. Parameters without a gradient are skipped.
# The check compares your function with `torch.nn.utils.clip_grad_norm_`.

# %% jupyter={"source_hidden": true} tags=["solution"]
def clip_by_total_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    if total > max_norm:
        for g in grads:
            g.mul_(max_norm / (total + 1e-6))
    return total


# %%
passed = checks.check_clip_by_total_norm(clip_by_total_norm)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer gathers every `p.grad` that is not `None`, computes one norm over
# all of them together (the square root of the sum of squared entries of all gradients), scales each gradient in
# place by `max_norm / (norm + 1e-6)` only when the norm exceeds `max_norm`, and returns the norm measured *before*
# scaling. Expected output: the check prints `PASSED` (same gradients and returned norm as `clip_grad_norm_` with and
# without clipping). Grading: **full**, passes the check; **most**, right gradients but returns the post-clip norm or
# forgets `None` gradients (the check names either); **partial**, clips each tensor separately (per-tensor norms,
# which changes the direction of $g$; the check names this too); **none**, no scaling or a new tensor instead of an
# in-place change.

# %% [markdown]
# **Exercise 2: predict the shapes.** For `nn.RNN(input_size, hidden_size, num_layers, batch_first=True,
# bidirectional=...)` fed a batch `(batch_size, seq_len, input_size)`, write
# `rnn_shapes(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional=False)` that returns the
# shapes of `output` and `h_n` as two tuples, *without* running the RNN. (A bidirectional RNN runs a second
# RNN from the last step to the first and concatenates the two state sequences; chapter 03 uses it.)

# %% jupyter={"source_hidden": true} tags=["solution"]
def rnn_shapes(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional=False):
    directions = 2 if bidirectional else 1
    output = (batch_size, seq_len, directions * hidden_size)  # batch first, as asked
    h_n = (num_layers * directions, batch_size, hidden_size)  # never batch first
    return output, h_n


# %%
passed = checks.check_rnn_shapes(rnn_shapes)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer returns `output = (batch_size, seq_len, D * hidden_size)` (batch
# first, as asked) and `h_n = (num_layers * D, batch_size, hidden_size)` with `D = 2` if bidirectional else 1, and
# can say why: `h_n` is never batch first, and its first dimension runs over layers and directions. Expected output:
# `PASSED` in all 48 cases. Grading: **full**, passes; **most**, right except `bidirectional` (forgets the factor 2 in
# one of the two shapes); **partial**, `h_n` written batch first, or `num_layers` put into `output`; **none**, shapes
# copied from running `nn.RNN` instead of predicted (the exercise asks not to run it).

# %% [markdown]
# **Exercise 3: find the longest distance the RNN solves.** Training a model per distance is expensive, so search
# cleverly. Write `longest_solved(accuracy_at, distances, threshold=0.9)`: `distances` is sorted, `accuracy_at(d)`
# trains a model and returns its accuracy, and you may assume that accuracy only falls as the distance grows. Return
# the largest distance whose accuracy reaches `threshold` (or `None` if even the first does not), calling
# `accuracy_at` as few times as you can: bisection needs about $\log_2$ of the number of distances. Then use it on
# the real RNN of section 10, with "solved" meaning that *every* seed reaches 90 %, and reuse the distances section
# 10 already measured. (Section 10 shows that the assumption of falling accuracy holds only roughly; bisection then
# finds *a* boundary, not necessarily the last success.)

# %% jupyter={"source_hidden": true} tags=["solution"]
def longest_solved(accuracy_at, distances, threshold=0.9):
    lo, hi = 0, len(distances) - 1  # invariant: the answer's index lies in [lo - 1, hi]
    best = None
    while lo <= hi:
        mid = (lo + hi) // 2
        if accuracy_at(distances[mid]) >= threshold:
            best, lo = distances[mid], mid + 1
        else:
            hi = mid - 1
    return best


# %%
passed = checks.check_longest_solved(longest_solved)

# %% [markdown]
# Once the check passes, use it on the real RNN: `accuracy_at` returns the worst run's accuracy at a distance,
# training new runs only for distances section 10 did not measure.

# %%
measured, asked = dict(recall_results), []


def accuracy_at(distance):
    asked.append(distance)
    if distance not in measured:
        measured[distance] = [recall_accuracy(distance, cfg.recall_steps, seed=s) for s in range(cfg.recall_seeds)]
    return min(measured[distance])


if passed:
    longest = longest_solved(accuracy_at, cfg.search_distances)
    print(f"asked about {len(asked)} of {len(cfg.search_distances)} distances: "
          + ", ".join(f"{d} (worst run {min(measured[d]):.0%}{', new' if d not in recall_results else ''})" for d in asked))
    print(f"longest distance solved by every run: {longest}")
else:
    print("Solve the exercise first (the check above says what is wrong), then run this cell again.")

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer is a bisection over the *indices* of `distances` that keeps the
# best distance seen to reach the threshold, moves right after a success and left after a failure, and returns
# `None` when even the first fails; about $\log_2 9 \approx 3$–4 calls for 9 distances. Expected output: the check
# prints `PASSED` (right answer for every cut-off, at most 5 models per search); on the real RNN the search asks
# about 4 distances, reuses section 10's runs where it can, and prints the longest distance solved by every run.
# Read the printed worst-run accuracies with the learner: because accuracy does not fall strictly with distance
# (section 10's runs vary by seed), the answer is *a* boundary, and it can lie above the last distance section 10
# found solved by all runs if a new distance between two measured ones happens to succeed. Grading: **full**, passes
# and explains that caveat; **most**, passes without the caveat; **partial**, a linear scan (right answer, too many
# calls: the check says so) or an off-by-one that misses the last success; **none**, returns an index or loops forever.

# %% [markdown]
# **Exercise 4: does the orthogonal start matter?** Section 10's models start with $W_{hh}$ orthogonal ($r = 1$).
# `nn.RNN`'s own initialization draws every weight uniformly from $\pm 1/\sqrt{H}$ instead. First write
# `recurrent_spectrum(rnn)` that returns the spectral radius and the largest singular value of an `nn.RNN`'s
# first-layer $W_{hh}$, as two floats. Then use it: build `SequenceClassifier`s, undo their orthogonal start with
# `model.rnn.reset_parameters()` (which restores the default initialization), print both numbers for the default
# and the orthogonal start, train on recall over distance 20 with the same budget and seeds as section 10, and
# compare with section 10's distance-20 runs. Before you run it, predict from section 6 which start should learn
# more often.

# %% jupyter={"source_hidden": true} tags=["solution"]
def recurrent_spectrum(rnn):
    W = rnn.weight_hh_l0.detach()
    return torch.linalg.eigvals(W).abs().max().item(), torch.linalg.matrix_norm(W, ord=2).item()


def default_start_accuracy(distance, steps, seed):
    torch.manual_seed(seed)
    model = SequenceClassifier(vocab_size=8, num_classes=8)
    model.rnn.reset_parameters()                               # back to nn.RNN's uniform initialization
    spectrum = recurrent_spectrum(model.rnn)
    run = train_recall(model, distance, steps, torch.optim.Adam(model.parameters(), lr=3e-3), max_norm=1.0, seed=seed)
    return spectrum, run["accuracy"]


torch.manual_seed(0)
print("orthogonal start: spectral radius {:.2f}, largest singular value {:.2f}".format(*recurrent_spectrum(SequenceClassifier(8, 8).rnn)))
default_runs = [default_start_accuracy(20, cfg.recall_steps, seed) for seed in range(cfg.recall_seeds)]
print("default start:    spectral radius {:.2f}, largest singular value {:.2f} (seed 0)".format(*default_runs[0][0]))
print("distance 20, accuracy per seed: default start " + ", ".join(f"{acc:.0%}" for _, acc in default_runs)
      + " | orthogonal start (section 10) " + ", ".join(f"{a:.0%}" for a in recall_results.get(20, [])))

# %%
passed = checks.check_recurrent_spectrum(recurrent_spectrum)

# %% [markdown] jupyter={"source_hidden": true} tags=["rubric"]
# **Rubric (teacher edition).** A complete answer computes the spectral radius as the largest *magnitude* of the
# (possibly complex) eigenvalues of `rnn.weight_hh_l0` and the largest singular value as its 2-norm, then runs the
# comparison and states the prediction first. Expected output: the orthogonal start prints 1.00 and 1.00; the
# default start a spectral radius well below 1 (about 0.6) and a largest singular value a little above 1 (about
# 1.1), the situation of section 6's `power_norm_rates` plot. Section 6 predicts that the default start's gradients
# fade over distance 20 (its long-run factor is about 0.6 per step even before tanh), so it should learn recall less
# often than the orthogonal start; the printed accuracies per seed say how this run came out, and with 3 seeds a
# difference of one run is not evidence either way. Grading: **full**, passes the check, states a prediction
# grounded in the spectral radius (not $\sigma_{\max}$), and reads the accuracies with the seed caveat; **most**, passes
# and compares without the caveat; **partial**, uses the largest singular value to predict explosion, or passes the
# check without running the comparison; **none**, the check fails (real part instead of magnitude, Frobenius norm,
# or the input matrix; the check names each).

# %% [markdown]
# ## Further reading
#
# - J. L. Elman. *Finding structure in time.* Cognitive Science 14, 1990 (the simple recurrent network).
# - D. E. Rumelhart, G. E. Hinton, R. J. Williams. *Learning representations by back-propagating errors.* Nature 323, 1986.
# - P. J. Werbos. *Backpropagation through time: what it does and how to do it.* Proc. IEEE 78(10), 1990.
# - R. J. Williams, J. Peng. *An efficient gradient-based algorithm for on-line training of recurrent network trajectories.* Neural Computation 2(4), 1990 (truncated BPTT).
# - Y. Bengio, P. Simard, P. Frasconi. *Learning long-term dependencies with gradient descent is difficult.* IEEE Trans. Neural Networks 5(2), 1994.
# - S. Hochreiter. *Untersuchungen zu dynamischen neuronalen Netzen.* Diploma thesis, TU München, 1991 (the first analysis of vanishing gradients).
# - R. Pascanu, T. Mikolov, Y. Bengio. *On the difficulty of training recurrent neural networks.* ICML 2013, arXiv:1211.5063 (gradient clipping by norm).
# - I. Sutskever, O. Vinyals, Q. V. Le. *Sequence to sequence learning with neural networks.* NeurIPS 2014, arXiv:1409.3215 (encoder–decoder).
# - A. M. Saxe, J. L. McClelland, S. Ganguli. *Exact solutions to the nonlinear dynamics of learning in deep linear neural networks.* ICLR 2014, arXiv:1312.6120 (orthogonal initialization).
# - Q. V. Le, N. Jaitly, G. E. Hinton. *A simple way to initialize recurrent networks of rectified linear units.* arXiv:1504.00941, 2015 (images read as sequences).
# - A. Karpathy. *min-char-rnn.py* (a character-level RNN with BPTT by hand in about 100 lines of NumPy), 2015,
#   and *The unreasonable effectiveness of recurrent neural networks*, blog post, 2015.
# - I. Goodfellow, Y. Bengio, A. Courville. *Deep Learning*, chapter 10 (sequence modeling), MIT Press 2016.

# %%
print(f"chapter run time: {time.perf_counter() - chapter_start:.0f} s ({'smoke' if cfg.smoke else 'full'} mode)")
