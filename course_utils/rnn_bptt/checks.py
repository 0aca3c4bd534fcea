"""Chapter 02's exercise checks (02_rnn_bptt, Exercises 1-4): call one on your answer, read "passed" or a hint.

Each check returns True/False and prints one line. ``@exercise`` (``course_utils.checks``) turns a missing
answer or one that still raises ``NotImplementedError`` into "not yet solved", and any other error raised
while checking into a hint that names it, so a check never crashes. The checks compare with PyTorch
(``clip_grad_norm_``, ``nn.RNN``) or with a known answer, and name the usual mistakes.
"""

from __future__ import annotations

import itertools
import math
from numbers import Complex, Integral, Real

import torch
import torch.nn as nn

from ..checks import attempt, exercise, report

CLIP, SHAPES, LONGEST = "clipping by norm", "RNN shapes", "longest solved distance"


def _grads_case(seed: int):
    g = torch.Generator().manual_seed(seed)
    params = [nn.Parameter(torch.zeros(*shape)) for shape in [(4, 3), (5,), (2, 2), (3,)]]
    for p, scale in zip(params[:3], (1.0, 3.0, 0.2)):
        p.grad = torch.randn(p.shape, generator=g) * scale
    return params  # the last parameter has no gradient


def _per_tensor_clip(grads, max_norm):
    return [g * min(1.0, max_norm / (g.norm().item() + 1e-6)) for g in grads]


@exercise(CLIP)
def check_clip_by_total_norm(fn) -> bool:
    """Exercise 02.1: ``fn(parameters, max_norm)`` clips all gradients together, in place, and returns the norm."""
    if not callable(fn):
        return report(CLIP, False, f"pass your function itself, clip_by_total_norm, not a {type(fn).__name__}.")
    for seed, max_norm in [(0, 0.5), (1, 1e3), (2, 2.0)]:
        params, reference = _grads_case(seed), _grads_case(seed)
        before = [p.grad.clone() for p in params[:3]]
        truth = nn.utils.clip_grad_norm_(reference, max_norm).item()
        got, failed = attempt(CLIP, fn, params, max_norm)
        if failed is not None:
            return failed
        if params[-1].grad is not None:
            return report(CLIP, False, "a parameter without a gradient got one; skip parameters whose .grad is None.")
        after = [p.grad for p in params[:3]]
        if any(not isinstance(a, torch.Tensor) or a.shape != b.shape for a, b in zip(after, before)):
            return report(CLIP, False, "a gradient was removed or changed shape: scale each p.grad in place, e.g. p.grad.mul_(factor).")
        wanted = [p.grad for p in reference[:3]]
        if all(torch.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(after, wanted)):
            if got is None:
                return report(CLIP, False, "the gradients are right, but return the total norm measured before clipping.")
            if not (isinstance(got, (Integral, float)) or (isinstance(got, torch.Tensor) and got.numel() == 1)):
                shape = f" of shape {tuple(got.shape)}" if isinstance(got, torch.Tensor) else ""
                return report(CLIP, False, f"return the total norm as a number or a one-element tensor, not a {type(got).__name__}{shape}.")
            value = float(got)
            if not math.isfinite(value) or abs(value - truth) > 1e-4 * truth:
                hint = " (that is the norm after clipping)" if abs(value - min(truth, max_norm)) < 1e-3 else ""
                return report(CLIP, False, f"returned {value:.4f}, expected the norm before clipping, {truth:.4f}{hint}.")
            continue
        if all(torch.equal(a, b) for a, b in zip(after, before)) and truth > max_norm:
            return report(CLIP, False, "the gradients were not changed: scale each p.grad in place, e.g. p.grad.mul_(factor).")
        if truth <= max_norm:
            return report(CLIP, False, f"the total norm {truth:.3g} is below max_norm={max_norm:g}, so the gradients must stay "
                                       "as they are: the factor is min(1, max_norm / norm).")
        if all(torch.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(after, _per_tensor_clip(before, max_norm))):
            return report(CLIP, False, "you clipped each tensor on its own; the norm is over all gradients together, "
                                       "sqrt(sum of every squared entry), and one factor scales them all.")
        return report(CLIP, False, f"with max_norm={max_norm:g} the clipped gradients differ from clip_grad_norm_'s; every "
                                   "gradient is multiplied by the same factor max_norm / total_norm.")
    return report(CLIP, True, "same gradients and same returned norm as torch.nn.utils.clip_grad_norm_, "
                              "with and without clipping, and parameters without a gradient are skipped.")


@exercise(SHAPES)
def check_rnn_shapes(fn) -> bool:
    """Exercise 02.2: ``fn(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional)`` -> (output, h_n) shapes."""
    if not callable(fn):
        return report(SHAPES, False, f"pass your function itself, rnn_shapes, not a {type(fn).__name__}.")
    cases = list(itertools.product([1, 3], [1, 5], [2], [4, 6], [1, 2, 3], [False, True]))
    for B, T, D, H, L, bi in cases:
        rnn = nn.RNN(D, H, num_layers=L, batch_first=True, bidirectional=bi)
        with torch.no_grad():
            out, h_n = rnn(torch.zeros(B, T, D))
        truth = (tuple(out.shape), tuple(h_n.shape))
        got, failed = attempt(SHAPES, fn, B, T, D, H, L, bidirectional=bi)
        if failed is not None:
            return failed
        try:
            got = (tuple(got[0]), tuple(got[1]))
        except (TypeError, IndexError, KeyError):
            return report(SHAPES, False, f"return two shapes, (output_shape, h_n_shape), not {got!r}.")
        if not all(len(s) == 3 and all(isinstance(v, Integral) for v in s) for s in got):
            return report(SHAPES, False, f"each shape is a tuple of three ints, like (batch, seq_len, features); got {got!r}.")
        if got == truth:
            continue
        case = f"batch {B}, length {T}, hidden {H}, {L} layer(s), bidirectional={bi}"
        directions = 2 if bi else 1
        if got[1] == (B, L * directions, H):
            hint = "h_n is never batch first: it is (num_layers * directions, batch, hidden) even with batch_first=True."
        elif got[0] == (T, B, directions * H):
            hint = "with batch_first=True the output is (batch, seq_len, ...)."
        elif bi and got[0] == (B, T, H):
            hint = "a bidirectional RNN concatenates both directions: the output's last dimension is 2 * hidden_size."
        elif bi and got[1][0] == L:
            hint = "h_n has one entry per layer *and* per direction: num_layers * 2 for a bidirectional RNN."
        elif got[0][-1] != directions * H:
            hint = "the output holds the top layer's states, so its last dimension is hidden_size (times 2 if bidirectional), not input_size."
        else:
            hint = "compare with what nn.RNN returns for this case."
        return report(SHAPES, False, f"for {case} nn.RNN gives output {truth[0]} and h_n {truth[1]}, yours {got[0]} and {got[1]}; {hint}")
    return report(SHAPES, True, f"output and h_n shapes match nn.RNN(batch_first=True) in all {len(cases)} cases.")


@exercise(LONGEST)
def check_longest_solved(fn) -> bool:
    """Exercise 02.3: ``fn(accuracy_at, distances, threshold=0.9)`` finds the last solved distance by bisection."""
    if not callable(fn):
        return report(LONGEST, False, f"pass your function itself, longest_solved, not a {type(fn).__name__}.")
    distances = [3, 5, 8, 12, 16, 20, 25, 30, 40, 50, 60, 80]
    limit = len(distances).bit_length() + 1  # bisection needs ceil(log2(n + 1)) calls; one spare
    most_calls = 0
    for threshold in (0.9, 0.5):
        for cut in range(-1, len(distances)):
            calls = []

            def accuracy_at(d, cut=cut, threshold=threshold, calls=calls):
                if d not in distances:
                    raise ValueError(f"accuracy_at was asked about distance {d}, which is not in `distances`.")
                calls.append(d)
                i = distances.index(d)
                return threshold if i == cut else (1.0 if i < cut else 0.125)  # exactly the threshold counts as solved

            expected = distances[cut] if cut >= 0 else None
            got, failed = attempt(LONGEST, fn, accuracy_at, list(distances), threshold=threshold)
            if failed is not None:
                return failed
            if not (got is None or (isinstance(got, Integral) and not isinstance(got, bool))):
                return report(LONGEST, False, f"return a distance from `distances` (an int) or None, not {got!r}.")
            if got != expected:
                if cut < 0:
                    hint = "when even the shortest distance fails, return None."
                elif (got is None and cut == 0) or (got in distances and abs(distances.index(got) - cut) == 1):
                    hint = "off by one: 'reaches the threshold' means accuracy >= threshold, and keep the last success, not the first failure."
                else:
                    hint = "keep the largest distance whose accuracy is >= threshold."
                return report(LONGEST, False, f"with threshold {threshold} and accuracy falling after distance {expected}, "
                                              f"you returned {got!r}; {hint}")
            most_calls = max(most_calls, len(calls))
    if most_calls > limit:
        return report(LONGEST, False, f"right answers, but up to {most_calls} models trained for {len(distances)} distances; "
                                      f"bisection needs at most {limit}: test the middle, then keep the half that can still hold the answer.")
    return report(LONGEST, True, f"right answer for every cut-off (and none), with at most {limit} models trained per search.")


SPECTRUM = "spectral radius and largest singular value"


def _spectrum_cases():
    g = torch.Generator().manual_seed(7)
    rotation = torch.tensor([[0.0, -1.2], [1.2, 0.0]])                   # complex eigenvalues +-1.2i
    shear = torch.tensor([[0.5, 3.0], [0.0, 0.5]])                        # rho 0.5, sigma_max above 3
    flip = torch.tensor([[-0.9, 0.0], [0.0, 0.3]])                        # a negative real eigenvalue
    return [rotation, shear, flip, torch.randn(16, 16, generator=g) / 4]


def _spectrum_mistake(rho: float, sigma: float, W: torch.Tensor) -> str | None:
    """What is wrong with (rho, sigma) as the spectral radius and largest singular value of W, or None."""
    eig = torch.linalg.eigvals(W)
    truth_rho, truth_sigma = eig.abs().max().item(), torch.linalg.matrix_norm(W, ord=2).item()
    rho_wrong, sigma_wrong = abs(rho - truth_rho) > 1e-4 * max(1, truth_rho), abs(sigma - truth_sigma) > 1e-4 * max(1, truth_sigma)
    mistakes = [  # (the answer matches this mistake, what to say), most specific first
        (abs(rho - truth_sigma) < 1e-4 and abs(sigma - truth_rho) < 1e-4 and abs(truth_rho - truth_sigma) > 1e-3,
         "the two values are swapped: the spectral radius comes first."),
        (rho_wrong and abs(rho - eig.real.abs().max().item()) < 1e-4,
         "eigenvalues can be complex: take their magnitude (.abs()), not their real part."),
        (rho_wrong and abs(rho - eig.real.max().item()) < 1e-4,
         "the spectral radius is the largest |eigenvalue|; a negative eigenvalue counts too."),
        (rho_wrong, f"spectral radius {rho:.4g}, expected {truth_rho:.4g}: use rnn.weight_hh_l0 and "
                    "torch.linalg.eigvals(...).abs().max()."),
        (sigma_wrong and abs(sigma - torch.linalg.matrix_norm(W).item()) < 1e-4,
         "that is the Frobenius norm; the largest singular value is the 2-norm (torch.linalg.matrix_norm(W, ord=2))."),
        (sigma_wrong, f"largest singular value {sigma:.4g}, expected {truth_sigma:.4g}: "
                      "torch.linalg.svdvals(rnn.weight_hh_l0).max()."),
    ]
    return next((message for matches, message in mistakes if matches), None)


@exercise(SPECTRUM)
def check_recurrent_spectrum(fn) -> bool:
    """Exercise 02.4: ``fn(rnn)`` returns (spectral radius, largest singular value) of ``rnn.weight_hh_l0``."""
    if not callable(fn):
        return report(SPECTRUM, False, f"pass your function itself, recurrent_spectrum, not a {type(fn).__name__}.")
    for W in _spectrum_cases():
        H = W.shape[0]
        rnn = nn.RNN(3, H)
        with torch.no_grad():
            rnn.weight_hh_l0.copy_(W)
            rnn.weight_ih_l0.copy_(torch.full((H, 3), 5.0))                # a decoy: the input matrix
        got, failed = attempt(SPECTRUM, fn, rnn)
        if failed is not None:
            return failed
        if not (isinstance(got, tuple) and len(got) == 2):
            return report(SPECTRUM, False, f"return two numbers (spectral radius, largest singular value), not {got!r}.")
        if any((isinstance(v, Complex) and not isinstance(v, Real)) or (torch.is_tensor(v) and v.is_complex()) for v in got):
            return report(SPECTRUM, False, "a value is complex: the spectral radius is the largest *magnitude* |λ| "
                                           "of the eigenvalues, so take .abs() before the max.")
        try:
            rho, sigma = (float(v) for v in got)
        except (TypeError, ValueError, RuntimeError):
            return report(SPECTRUM, False, f"both values must be numbers, got {got!r}.")
        if not (math.isfinite(rho) and math.isfinite(sigma)):
            return report(SPECTRUM, False, f"both values must be finite numbers, got {rho} and {sigma}.")
        problem = _spectrum_mistake(rho, sigma, W)
        if problem:
            return report(SPECTRUM, False, problem)
    return report(SPECTRUM, True, "spectral radius and largest singular value of W_hh right for 4 matrices, "
                                  "including complex and negative eigenvalues.")
