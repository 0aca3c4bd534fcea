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


# A wrong answer that no check lists as a specific mistake must still be refused: only comparing with the
# reference (clip_grad_norm_, nn.RNN, the known boundary) catches these, so a check that stopped comparing fails here.

def clip_by_value(parameters, max_norm):
    total = torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))
    nn.utils.clip_grad_value_([p for p in parameters if p.grad is not None], max_norm)
    return total


def clip_with_l1_norm(parameters, max_norm):
    grads = [p.grad for p in parameters if p.grad is not None]
    total = sum(g.abs().sum() for g in grads)
    for g in grads:
        g.mul_(min(1.0, max_norm / (total.item() + 1e-6)))
    return total


def test_clip_check_refuses_unlisted_wrong_answers(capsys):
    assert not checks.check_clip_by_total_norm(clip_by_value)
    assert "differ from clip_grad_norm_'s" in capsys.readouterr().out
    assert not checks.check_clip_by_total_norm(clip_with_l1_norm)
    assert "NOT YET" in capsys.readouterr().out


def test_shapes_check_refuses_an_unlisted_wrong_answer(capsys):
    def state_for_one_sequence(B, T, D, H, L, bidirectional=False):
        out, h = right_shapes(B, T, D, H, L, bidirectional)
        return out, (h[0], 1, h[2])  # forgets the batch in h_n: right whenever batch_size is 1

    assert not checks.check_rnn_shapes(state_for_one_sequence)
    out = capsys.readouterr().out
    assert "compare with what nn.RNN returns" in out and "batch 3" in out


def test_longest_solved_check_refuses_an_unlisted_wrong_answer(capsys):
    def returns_the_index(accuracy_at, distances, threshold=0.9):
        best = bisect(accuracy_at, distances, threshold)
        return None if best is None else distances.index(best)

    assert not checks.check_longest_solved(returns_the_index)
    assert "keep the largest distance" in capsys.readouterr().out

    def last_distance_tried(accuracy_at, distances, threshold=0.9):
        lo, hi = 0, len(distances) - 1
        while lo < hi:
            mid = (lo + hi) // 2
            lo, hi = (mid + 1, hi) if accuracy_at(distances[mid]) >= threshold else (lo, mid)
        return distances[lo]

    assert not checks.check_longest_solved(last_distance_tried)
    assert "NOT YET" in capsys.readouterr().out


MALFORMED = {
    "check_clip_by_total_norm": [
        3.0,                                                     # not a function
        lambda parameters: None,                                 # wrong signature
        lambda parameters, max_norm: 1 / 0,                      # raises inside
        lambda parameters, max_norm: good_clip(parameters, max_norm).tolist() and "norm",  # returns a string
        lambda parameters, max_norm: [setattr(p, "grad", None) for p in parameters],       # drops the gradients
        lambda parameters, max_norm: [setattr(p, "grad", torch.zeros(1)) for p in parameters if p.grad is not None],
        lambda parameters, max_norm: (good_clip(parameters, max_norm), torch.ones(3))[1],  # a vector, not a norm
    ],
    "check_rnn_shapes": [
        "rnn_shapes", lambda: None, lambda *args, **kwargs: [][0], lambda *args, **kwargs: None,
        lambda *args, **kwargs: ((), ()), lambda *args, **kwargs: ("abc", "def"), lambda *args, **kwargs: 42,
    ],
    "check_longest_solved": [
        None.__class__, lambda accuracy_at: 3, lambda accuracy_at, distances, threshold=0.9: accuracy_at(7),
        lambda accuracy_at, distances, threshold=0.9: "12", lambda accuracy_at, distances, threshold=0.9: torch.tensor([3, 5]),
        lambda accuracy_at, distances, threshold=0.9: 12.0, lambda accuracy_at, distances, threshold=0.9: [3],
    ],
}


def test_malformed_answers_print_a_hint_and_never_crash(capsys):
    for name, answers in MALFORMED.items():
        for answer in answers:
            assert getattr(checks, name)(answer) is False, (name, answer)
            out = capsys.readouterr().out.strip()
            assert out.startswith("NOT YET") and len(out.splitlines()) == 1, (name, out)
            assert "not yet solved" not in out or answer is None, (name, out)  # a hint, not "unsolved"


def test_clip_check_refuses_an_answer_that_deletes_the_gradients(capsys):
    """The committed check compared only the gradients that were left, so deleting them all passed."""

    def drops_gradients(parameters, max_norm):
        total = torch.sqrt(sum((p.grad**2).sum() for p in parameters if p.grad is not None))
        for p in parameters:
            p.grad = None
        return total

    assert not checks.check_clip_by_total_norm(drops_gradients)
    assert "a gradient was removed" in capsys.readouterr().out


def test_recurrent_spectrum_check_accepts_the_answer_and_names_the_usual_mistakes(capsys):
    def right(rnn):
        W = rnn.weight_hh_l0.detach()
        return torch.linalg.eigvals(W).abs().max().item(), torch.linalg.matrix_norm(W, ord=2).item()

    def real_part(rnn):
        W = rnn.weight_hh_l0.detach()
        return torch.linalg.eigvals(W).real.abs().max().item(), torch.linalg.matrix_norm(W, ord=2).item()

    def frobenius(rnn):
        W = rnn.weight_hh_l0.detach()
        return torch.linalg.eigvals(W).abs().max().item(), torch.linalg.matrix_norm(W).item()

    def swapped(rnn):
        return tuple(reversed(right(rnn)))

    def input_matrix(rnn):
        W = rnn.weight_ih_l0.detach()
        return W.norm().item(), W.norm().item()

    def not_a_number(rnn):  # NaN compares False with everything: it used to pass
        return float("nan"), float("nan")

    def complex_eigenvalue(rnn):  # the largest eigenvalue itself, not its magnitude
        eig = torch.linalg.eigvals(rnn.weight_hh_l0.detach())
        return eig[eig.abs().argmax()], torch.linalg.matrix_norm(rnn.weight_hh_l0.detach(), ord=2).item()

    assert checks.check_recurrent_spectrum(right) is True
    for wrong, words in ((real_part, "magnitude"), (frobenius, "Frobenius"), (swapped, "swapped"),
                         (input_matrix, "weight_hh_l0"), (not_a_number, "finite"), (complex_eigenvalue, "complex")):
        capsys.readouterr()
        assert checks.check_recurrent_spectrum(wrong) is False
        assert words in capsys.readouterr().out
