"""The chapter 02 exercise checks accept right answers and explain the usual wrong ones."""

import torch
import torch.nn as nn

from course_utils.rnn_bptt import checks


def good_clip(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def per_tensor_clip(parameters, max_norm):
    for p in parameters:
        if p.grad is not None:
            nn.utils.clip_grad_norm_([p], max_norm)
    return torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))


def always_scale(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = torch.sqrt(sum((g**2).sum() for g in grads))
    for g in grads:
        g.mul_(max_norm / total)
    return total


def returns_clipped_norm(parameters, max_norm):
    good_clip(parameters, max_norm)
    return torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))


def test_clip_check(capsys):
    assert checks.check_clip_by_total_norm(good_clip)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_clip_by_total_norm(lambda parameters, max_norm: None)
    assert "not changed" in capsys.readouterr().out
    assert not checks.check_clip_by_total_norm(per_tensor_clip)
    assert "each tensor on its own" in capsys.readouterr().out
    assert not checks.check_clip_by_total_norm(always_scale)
    assert "below max_norm" in capsys.readouterr().out
    assert not checks.check_clip_by_total_norm(returns_clipped_norm)
    assert "norm after clipping" in capsys.readouterr().out


def right_shapes(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional=False):
    d = 2 if bidirectional else 1
    return (batch_size, seq_len, d * hidden_size), (num_layers * d, batch_size, hidden_size)


def test_shapes_check(capsys):
    assert checks.check_rnn_shapes(right_shapes)
    assert "PASSED" in capsys.readouterr().out

    def batch_first_state(B, T, D, H, L, bidirectional=False):
        out, h = right_shapes(B, T, D, H, L, bidirectional)
        return out, (h[1], h[0], h[2])

    assert not checks.check_rnn_shapes(batch_first_state)
    assert "never batch first" in capsys.readouterr().out

    def forgets_directions(B, T, D, H, L, bidirectional=False):
        return (B, T, H), (L, B, H)

    assert not checks.check_rnn_shapes(forgets_directions)
    assert "2 * hidden_size" in capsys.readouterr().out


def bisect(accuracy_at, distances, threshold=0.9):
    lo, hi, best = 0, len(distances) - 1, None
    while lo <= hi:
        mid = (lo + hi) // 2
        if accuracy_at(distances[mid]) >= threshold:
            best, lo = distances[mid], mid + 1
        else:
            hi = mid - 1
    return best


def linear_scan(accuracy_at, distances, threshold=0.9):
    best = None
    for d in distances:
        if accuracy_at(d) >= threshold:
            best = d
    return best


def strict(accuracy_at, distances, threshold=0.9):
    best = None
    for d in distances:
        if accuracy_at(d) > threshold:
            best = d
    return best


def test_longest_solved_check(capsys):
    assert checks.check_longest_solved(bisect)
    assert "PASSED" in capsys.readouterr().out
    assert not checks.check_longest_solved(linear_scan)  # right answers, too many models
    assert "bisection needs at most" in capsys.readouterr().out
    assert not checks.check_longest_solved(strict)
    assert "off by one" in capsys.readouterr().out


def test_unsolved_answers_do_not_crash(capsys):
    def stub(*args, **kwargs):
        raise NotImplementedError

    for check in (checks.check_clip_by_total_norm, checks.check_rnn_shapes, checks.check_longest_solved):
        assert not check(None)
        assert not check(stub)
    out = capsys.readouterr().out
    assert out.count("NOT YET") == 6 and out.count("not yet solved") == 6
