"""Training the character model with truncated backpropagation through time, and measuring it in nats.

Introduced in chapter 03 (LSTM and GRU), §6; the truncation itself is chapter 02's (``train_truncated``, §8 of
``02_rnn_bptt``).

- ``stream_batches`` + ``detach_state``: the text is cut into ``batch_size`` parallel streams; chunk k of every
  stream continues chunk k - 1, so the state can be carried from one chunk to the next (detached, so the
  gradient stops at the chunk boundary). The chunks are shown in ``03_lstm_gru`` §6.
- ``bptt_step``: one chunk of truncated BPTT (shown in §6); ``fit_charlm``: the loop around it, with a budget of
  epochs or of training seconds (``budget_lr``: warm-up, then a cosine over the budget). It trains the chapter's
  character model live in full mode, the LSTM-vs-GRU race of §7 and the ``charlm`` checkpoint.
- ``evaluate_nats``: mean cross-entropy per character on held-out text, the state carried through each stream.
"""

from __future__ import annotations

import copy
import math
import time

import torch
import torch.nn as nn
import torch.nn.functional as F

from .. import train

INDEX_DTYPES = (torch.int64, torch.int32)


def _check_tokens(tokens, name: str, at_least: int) -> None:
    if not (isinstance(tokens, torch.Tensor) and tokens.dim() == 1 and tokens.dtype in INDEX_DTYPES):
        got = f"shape {tuple(tokens.shape)}, dtype {tokens.dtype}" if isinstance(tokens, torch.Tensor) else type(tokens).__name__
        raise ValueError(f"{name} must be a 1-D tensor of character indices (charlm.encode(text)), got {got}.")
    if len(tokens) < at_least:
        raise ValueError(f"{name} has {len(tokens)} characters; at least {at_least} are needed.")


def _check_sizes(**sizes) -> None:
    for name, value in sizes.items():
        if isinstance(value, bool) or not isinstance(value, int) or value < 1:
            raise ValueError(f"{name} must be an int >= 1, not {value!r}.")


def _check_number(name: str, value, low: float = 0.0, low_ok: bool = False) -> None:
    """``value`` must be a real number (not a bool), finite, and above ``low`` (or equal to it when ``low_ok``)."""
    if isinstance(value, bool) or not isinstance(value, int | float) or not math.isfinite(value) or not (
            value >= low if low_ok else value > low):
        raise ValueError(f"{name} must be a finite number {'>=' if low_ok else '>'} {low:g}, not {value!r}.")


def _check_vocabulary(model: nn.Module, tokens: torch.Tensor, name: str) -> None:
    vocab = getattr(getattr(model, "embedding", None), "num_embeddings", None)
    if vocab is not None:
        low, high = (int(v) for v in torch.aminmax(tokens))
        if not 0 <= low <= high < vocab:
            raise ValueError(f"{name} hold indices {low}..{high}, outside the model's vocabulary 0..{vocab - 1}.")


def _check_chunk(model, X, Y, optimizer, max_norm) -> None:
    """``bptt_step``'s arguments: cheap checks (types, shapes, one min/max of a small chunk), no pass over the data."""
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module mapping (tokens, state) to (logits, state), not {type(model).__name__}.")
    for name, t in (("X", X), ("Y", Y)):
        if not (isinstance(t, torch.Tensor) and t.dim() == 2 and t.numel() and t.dtype in INDEX_DTYPES):
            got = f"shape {tuple(t.shape)}, dtype {t.dtype}" if isinstance(t, torch.Tensor) else type(t).__name__
            raise ValueError(f"{name} must be a non-empty (batch_size, seq_len) tensor of character indices, got {got}.")
    if Y.shape != X.shape:
        raise ValueError(f"Y must have X's shape {tuple(X.shape)} (the next character of each position), got {tuple(Y.shape)}.")
    _check_vocabulary(model, X, "X")
    _check_vocabulary(model, Y, "Y")
    if not isinstance(optimizer, torch.optim.Optimizer):
        raise TypeError(f"optimizer must be a torch.optim optimizer, e.g. torch.optim.AdamW(model.parameters()), "
                        f"not {type(optimizer).__name__}.")
    _check_number("max_norm", max_norm)


def stream_batches(tokens: torch.Tensor, batch_size: int, seq_len: int) -> list[tuple[torch.Tensor, torch.Tensor]]:
    """Chunks ``(X, Y)`` of shape (batch_size, seq_len), in order; ``Y`` is ``X`` shifted by one character.

    The text is cut into ``batch_size`` equal streams laid side by side, so row b of chunk k continues
    row b of chunk k - 1: the model's state after one chunk is the right start for the next.
    """
    _check_tokens(tokens, "tokens", 2)
    _check_sizes(batch_size=batch_size, seq_len=seq_len)
    per_stream = (len(tokens) - 1) // batch_size
    if per_stream < seq_len:
        raise ValueError(f"tokens: {len(tokens)} characters are too few for batch_size={batch_size} streams of at "
                         f"least seq_len + 1 = {seq_len + 1}.")
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


@torch.no_grad()
def evaluate_nats(model: nn.Module, tokens: torch.Tensor, batch_size: int = 16, seq_len: int = 256) -> float:
    """Mean cross-entropy in nats per character over ``tokens``, in eval mode, state carried through each stream.

    ``model(tokens, state) -> (logits, state)``, like ``models.CharLM``. Every character counts once: the sum of the
    losses is divided by the number of characters, so a shorter last chunk weighs no more than its share.
    """
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module mapping (tokens, state) to (logits, state), not {type(model).__name__}.")
    _check_tokens(tokens, "tokens", 2)
    _check_sizes(batch_size=batch_size, seq_len=seq_len)
    _check_vocabulary(model, tokens, "tokens")
    batch_size = min(batch_size, (len(tokens) - 1) // 2) or 1
    per_stream = (len(tokens) - 1) // batch_size
    X_all = tokens[: batch_size * per_stream].view(batch_size, per_stream)        # every character but a few at the end
    Y_all = tokens[1 : batch_size * per_stream + 1].view(batch_size, per_stream)
    total, count, state = 0.0, 0, None
    with train.eval_mode(model):
        for s in range(0, per_stream, seq_len):                                   # the last chunk may be shorter
            X, Y = X_all[:, s : s + seq_len], Y_all[:, s : s + seq_len]
            logits, state = model(X, state)
            total += F.cross_entropy(logits.flatten(0, 1), Y.flatten(), reduction="sum").item()
            count += Y.numel()
    return total / count


def bptt_step(model: nn.Module, X: torch.Tensor, Y: torch.Tensor, state, optimizer, max_norm: float = 1.0):
    """One chunk of truncated BPTT: run from the carried state, learn within the chunk; returns (loss, next state)."""
    _check_chunk(model, X, Y, optimizer, max_norm)         # types and shapes: microseconds, next to the step's milliseconds
    logits, state = model(X, state)                        # starts from the state the previous chunk left
    state = detach_state(state)                            # carry the value, cut the gradient
    loss = F.cross_entropy(logits.flatten(0, 1), Y.flatten())
    if torch.isfinite(loss):                               # a NaN loss is reported, never learned from
        optimizer.zero_grad(set_to_none=True)
        loss.backward()                                    # through this chunk's seq_len steps only
        nn.utils.clip_grad_norm_(model.parameters(), max_norm)
        optimizer.step()
    return loss.item(), state


def budget_lr(fraction: float, warmup: float = 0.05) -> float:
    """The learning-rate factor at ``fraction`` (0..1) of a training budget: a linear warm-up from 0.04, then a cosine to 0."""
    if isinstance(fraction, bool) or not isinstance(fraction, int | float) or not fraction >= 0:
        raise ValueError(f"fraction must be a number >= 0 (the share of the budget used so far), not {fraction!r}.")
    if isinstance(warmup, bool) or not isinstance(warmup, int | float) or not 0 < warmup < 1:
        raise ValueError(f"warmup must be a number in (0, 1) (the share of the budget spent warming up), not {warmup!r}.")
    if fraction < warmup:
        return 0.04 + 0.96 * fraction / warmup
    return 0.5 * (1 + math.cos(math.pi * min(1.0, (fraction - warmup) / (1 - warmup))))


def fit_charlm(model: nn.Module, train_tokens: torch.Tensor, val_tokens: torch.Tensor, *, num_epochs: int | None = None,
               seconds: float | None = None, batch_size: int = 64, seq_len: int = 128, lr: float = 3e-3,
               weight_decay: float = 0.0, max_norm: float = 1.0, seed: int = 0, log=None) -> dict:
    """Truncated-BPTT training with AdamW and a warm-up + cosine learning rate; returns a history of plain lists.

    The lesson: this loop is written out (not handed to ``train.fit``) because what it carries from batch to batch
    is the point. Each epoch walks the streams once from a fresh state; the state leaves every chunk detached, so
    the memory crosses the chunk boundary and the gradient does not. The budget is ``num_epochs`` epochs, or
    ``seconds`` of training time (evaluations not counted; the last epoch may stop part-way). The learning rate warms
    up for 5 % of the budget and then falls along a cosine: PyTorch's ``OneCycleLR`` over the steps of an epoch
    budget, ``budget_lr`` over the fraction of the time used for a time budget. After every epoch (and at the end of a time
    budget) the history records ``step``, ``train_nats`` (mean over the epoch), ``val_nats`` and ``seconds``
    (training time so far), plus ``best_val_nats``; the best weights are restored at the end. A NaN or infinite
    loss stops training with ``train.NonFiniteLoss`` and puts back the weights of the last finished epoch.
    """
    if (num_epochs is None) == (seconds is None):
        raise ValueError(f"give exactly one budget: num_epochs (an int >= 1) or seconds (a number > 0), not "
                         f"num_epochs={num_epochs!r} and seconds={seconds!r}.")
    if num_epochs is not None and not (isinstance(num_epochs, int) and not isinstance(num_epochs, bool) and num_epochs >= 1):
        raise ValueError(f"num_epochs must be an int >= 1, not {num_epochs!r}.")
    if seconds is not None and not (isinstance(seconds, int | float) and not isinstance(seconds, bool) and 0 < seconds < math.inf):
        raise ValueError(f"seconds must be a finite number > 0, not {seconds!r}.")
    _check_number("max_norm", max_norm)
    _check_number("lr", lr)
    _check_number("weight_decay", weight_decay, low_ok=True)
    if isinstance(seed, bool) or not isinstance(seed, int) or seed < 0:
        raise ValueError(f"seed must be an int >= 0, not {seed!r}.")
    if log is not None and not callable(log):
        raise TypeError(f"log must be a function of one line of text (e.g. print) or None, not {log!r}.")
    if not isinstance(model, nn.Module):
        raise TypeError(f"model must be an nn.Module mapping (tokens, state) to (logits, state), not {type(model).__name__}.")
    torch.manual_seed(seed)
    chunks = stream_batches(train_tokens, batch_size, seq_len)
    _check_vocabulary(model, train_tokens, "train_tokens")
    evaluate_nats(model, val_tokens)                       # unusable validation text fails now, not after an epoch
    optimizer = torch.optim.AdamW(model.parameters(), lr=lr, weight_decay=weight_decay)
    scheduler = None
    if num_epochs is not None:                             # an epoch budget: PyTorch's one-cycle schedule, same shape
        scheduler = torch.optim.lr_scheduler.OneCycleLR(optimizer, max_lr=lr, total_steps=num_epochs * len(chunks),
                                                        pct_start=0.05, anneal_strategy="cos")
    history = {"step": [], "train_nats": [], "val_nats": [], "seconds": []}
    best, best_state, last_good, seconds_used, steps, epoch = math.inf, None, copy.deepcopy(model.state_dict()), 0.0, 0, 0
    out_of_budget = False
    while not out_of_budget:
        epoch += 1
        model.train()
        state, losses = None, []
        for i, (X, Y) in enumerate(chunks):
            start = time.perf_counter()
            if scheduler is None:                          # a time budget: the schedule follows the clock
                for group in optimizer.param_groups:
                    group["lr"] = lr * budget_lr(seconds_used / seconds)
            loss, state = bptt_step(model, X, Y, state, optimizer, max_norm)
            if not math.isfinite(loss):                    # diverged: back to the last finished epoch, and stop
                model.load_state_dict(last_good)
                model.eval()
                raise train.NonFiniteLoss(
                    f"the loss became {loss} in epoch {epoch}, batch {i + 1} of {len(chunks)}: training diverged. "
                    f"The weights of {f'epoch {epoch - 1}' if epoch > 1 else 'the start'} are back; try a lower lr "
                    f"(now {lr:g}) or a smaller max_norm (now {max_norm:g}).")
            if scheduler is not None:
                scheduler.step()
            seconds_used += time.perf_counter() - start
            steps += 1
            losses.append(loss)
            if seconds is not None and seconds_used >= seconds:
                out_of_budget = True
                break
        out_of_budget = out_of_budget or (num_epochs is not None and epoch >= num_epochs)
        val = evaluate_nats(model, val_tokens)
        history["step"].append(steps)
        history["train_nats"].append(sum(losses) / len(losses))
        history["val_nats"].append(val)
        history["seconds"].append(seconds_used)
        if log:
            log(f"epoch {epoch}{f'/{num_epochs}' if num_epochs else ''}  train {history['train_nats'][-1]:.3f}  "
                f"val {val:.3f}  {seconds_used:.0f}s")
        last_good = copy.deepcopy(model.state_dict())
        if val < best:
            best, best_state = val, last_good
    model.load_state_dict(best_state if best_state is not None else last_good)
    model.eval()
    history["best_val_nats"] = best
    return history
