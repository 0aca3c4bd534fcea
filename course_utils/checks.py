"""Auto-checks for the chapter exercises: call one on your answer, read "passed" or a specific hint.

Each check returns True/False and prints one line. An answer that is missing (``None``) or still
raises ``NotImplementedError`` is reported as "not yet solved", never as a crash.
"""

from __future__ import annotations

import itertools

import torch
import torch.nn as nn
import torch.nn.functional as F


def report(title: str, ok: bool, message: str) -> bool:
    """Print one result line and return ``ok``."""
    print(f"{'PASSED' if ok else 'NOT YET'} - {title}: {message}")
    return ok


def _run(title, fn, *args, **kwargs):
    """Call the learner's code; returns (value, None) or (None, printed failure)."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, report(title, False, "not yet solved - replace the `raise NotImplementedError` with your code.")
    except Exception as err:  # noqa: BLE001 - any error in the learner's code becomes a hint
        return None, report(title, False, f"your code raised {type(err).__name__}: {err}")


# ---------------------------------------------------------------- chapter 01 (CNN)

def check_conv_output_size(fn) -> bool:
    """Exercise 01.1: ``fn(h, k, s=1, p=0, d=1)`` must give the conv output size PyTorch produces."""
    title = "conv output size"
    if fn is None:
        return report(title, False, "not yet solved - define conv_output_size(h, k, s=1, p=0, d=1).")
    cases = [c for c in itertools.product([5, 7, 8, 28, 32], [1, 2, 3, 5], [1, 2, 3], [0, 1, 2], [1, 2])
             if c[0] + 2 * c[3] >= c[4] * (c[1] - 1) + 1]
    for h, k, s, p, d in cases:
        truth = F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p, dilation=d).shape[-1]
        got, failed = _run(title, fn, h, k, s, p, d)
        if failed is not None:
            return failed
        if got != truth:
            hint = "remember the floor: use // on integers." if isinstance(got, float) else (
                "dilation stretches the kernel to d*(k-1)+1 pixels." if d > 1 and fn(h, k, s, p, 1) ==
                F.conv2d(torch.zeros(1, 1, h, h), torch.zeros(1, 1, k, k), stride=s, padding=p).shape[-1]
                else "padding adds p pixels on *both* sides; the stride divides what is left after the first window.")
            return report(title, False, f"for h={h}, k={k}, s={s}, p={p}, d={d} PyTorch gives {truth}, yours {got}; {hint}")
    return report(title, True, f"matches F.conv2d on {len(cases)} combinations of size, kernel, stride, padding, dilation.")


def check_strided_cnn(model: nn.Module, pooled: nn.Module | None = None) -> bool:
    """Exercise 01.2: a CNN that downsamples with stride-2 convolutions instead of pooling layers."""
    title = "stride instead of pooling"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `strided_cnn`.")
    pools = [m for m in model.modules() if isinstance(m, nn.MaxPool2d | nn.AvgPool2d)]
    if pools:
        return report(title, False, f"the model still has {len(pools)} pooling layer(s); replace each by stride=2 in the conv before it.")
    strided = [m for m in model.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if len(strided) < 2:
        return report(title, False, f"only {len(strided)} conv layer(s) have stride 2; the pooled model halves the size three times.")
    out, failed = _run(title, model.eval(), torch.zeros(2, 1, 28, 28))
    if failed is not None:
        return failed
    if tuple(out.shape) != (2, 10):
        return report(title, False, f"a batch of 2 images must give logits (2, 10), got {tuple(out.shape)}; check the classifier's input size.")
    extra = ""
    if pooled is not None:
        a, b = (sum(p.numel() for p in m.parameters()) for m in (model, pooled))
        extra = f" It has {a:,} parameters against {b:,} for the pooled model: a strided conv has the same weights as the conv it replaces."
    return report(title, True, f"{len(strided)} strided convolutions, no pooling, logits of shape (2, 10).{extra}")


def check_residual_block(block_cls) -> bool:
    """Exercise 01.3: ``block_cls(channels)`` computes relu(x + F(x)) with F two 3x3 conv-BN layers."""
    title = "residual block"
    if block_cls is None:
        return report(title, False, "not yet solved - define the class ResidualBlock(channels).")
    block, failed = _run(title, block_cls, 8)
    if failed is not None:
        return failed
    x = torch.randn(4, 8, 10, 10)
    out, failed = _run(title, block.eval(), x)
    if failed is not None:
        return failed
    if tuple(out.shape) != tuple(x.shape):
        return report(title, False, f"the output must keep the input's shape {tuple(x.shape)}, got {tuple(out.shape)}; use padding=1.")
    with torch.no_grad():
        for m in block.modules():
            if isinstance(m, nn.Conv2d):
                m.weight.zero_()
                if m.bias is not None:
                    m.bias.zero_()
            if isinstance(m, nn.BatchNorm2d):
                m.bias.zero_()
        out = block(x)
    if torch.allclose(out, torch.zeros_like(out)):
        return report(title, False, "with all conv weights at zero the block outputs zeros: the input is never added back (x + F(x)).")
    if torch.allclose(out, x):
        return report(title, False, "with all conv weights at zero the block returns x unchanged; apply the ReLU after adding x.")
    if not torch.allclose(out, torch.relu(x), atol=1e-6):
        return report(title, False, "with zero conv weights the block should give relu(x); add x to the residual branch before the last ReLU.")
    return report(title, True, "shape kept, and with F = 0 the block reduces to relu(x): the skip connection carries the input.")


# ---------------------------------------------------------------- chapter 05 (autoencoders)

def check_pooled_autoencoder(model: nn.Module) -> bool:
    """Exercise 05.1: a conv autoencoder whose encoder keeps the size in its convs and halves it with max pooling."""
    title = "pooling instead of stride"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `pooled_ae`.")
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}`, like ae.ConvAutoencoder.")
    encoder = getattr(model, "encoder", model)
    pools = [m for _, m in encoder.named_modules(remove_duplicate=False) if isinstance(m, nn.MaxPool2d)]
    strided = [m for m in encoder.modules() if isinstance(m, nn.Conv2d) and max(m.stride) > 1]
    if strided:
        return report(title, False, f"{len(strided)} encoder conv(s) still have stride > 1; use stride=1, padding=1 and pool after.")
    if len(pools) < 2:
        return report(title, False, f"the encoder has {len(pools)} max-pool layer(s); it must halve 28 -> 14 -> 7, so use two.")
    x = torch.rand(2, 1, 28, 28)
    z, failed = _run(title, model.eval().encode, x)
    if failed is not None:
        return failed
    out, failed = _run(title, model.eval(), x)
    if failed is not None:
        return failed
    if z.dim() != 2 or len(z) != 2:
        return report(title, False, f"encode must give one flat code per image, shape (2, latent_dim); got {tuple(z.shape)}.")
    if tuple(out.shape) != (2, 1, 28, 28):
        return report(title, False, f"the reconstruction must have the input's shape (2, 1, 28, 28), got {tuple(out.shape)}.")
    if out.min() < 0 or out.max() > 1:
        return report(title, False, "the output leaves [0, 1]; end the decoder with a sigmoid.")
    return report(title, True, f"{len(pools)} max-pool layers, no strided convs, code {tuple(z.shape)}, output (2, 1, 28, 28).")


def check_hourglass(fn) -> bool:
    """Exercise 05.2: ``fn(depth)`` gives the hidden widths 256, 128, ... of an encoder with ``depth`` hidden layers."""
    title = "hourglass widths"
    if fn is None:
        return report(title, False, "not yet solved - define hourglass(depth).")
    for depth in range(5):
        got, failed = _run(title, fn, depth)
        if failed is not None:
            return failed
        want = tuple(256 // 2**i for i in range(depth))
        if got is None or tuple(got) != want:
            hint = ("depth counts hidden layers, so hourglass(0) is the empty tuple ()." if depth == 0 else
                    "start at 256 and halve at every layer." if got is not None and len(tuple(got)) == depth else
                    f"return exactly {depth} width(s).")
            return report(title, False, f"hourglass({depth}) should be {want}, got {got!r}; {hint}")
    return report(title, True, "hourglass(0..4) give (), (256,), (256, 128), (256, 128, 64), (256, 128, 64, 32).")


class _LinearCodec:
    """A stand-in model with encode(x) = x @ A and decode(z) = z @ B, to check latent arithmetic."""

    def __init__(self):
        g = torch.Generator().manual_seed(0)
        self.A, self.B = torch.randn(6, 2, generator=g), torch.randn(2, 6, generator=g)

    def encode(self, x):
        return x @ self.A

    def decode(self, z):
        return z @ self.B


def check_latent_arithmetic(fn) -> bool:
    """Exercise 05.3: ``fn(model, a, b, c)`` returns decode(encode(a) - encode(b) + encode(c))."""
    title = "latent arithmetic"
    if fn is None:
        return report(title, False, "not yet solved - define latent_arithmetic(model, a, b, c).")
    codec = _LinearCodec()
    g = torch.Generator().manual_seed(1)
    a, b, c = (torch.randn(3, 6, generator=g) for _ in range(3))
    got, failed = _run(title, fn, codec, a, b, c)
    if failed is not None:
        return failed
    want = codec.decode(codec.encode(a) - codec.encode(b) + codec.encode(c))
    if not isinstance(got, torch.Tensor) or got.shape != want.shape:
        shape = tuple(got.shape) if isinstance(got, torch.Tensor) else type(got).__name__
        return report(title, False, f"return the decoded batch, shape {tuple(want.shape)}; got {shape}.")
    if torch.allclose(got, codec.decode(codec.encode(a) - codec.encode(c) + codec.encode(b)), atol=1e-5):
        return report(title, False, "b and c are swapped: compute encode(a) - encode(b) + encode(c).")
    if torch.allclose(got, a - b + c, atol=1e-5):
        return report(title, False, "that is arithmetic on the images; encode them first and decode the result.")
    if not torch.allclose(got, want, atol=1e-5):
        return report(title, False, "the result differs from decode(encode(a) - encode(b) + encode(c)).")
    return report(title, True, "decode(encode(a) - encode(b) + encode(c)), batch by batch.")


# ---------------------------------------------------------------- chapter 02 (RNN and BPTT)

def _grads_case(seed: int):
    g = torch.Generator().manual_seed(seed)
    params = [nn.Parameter(torch.zeros(*shape)) for shape in [(4, 3), (5,), (2, 2), (3,)]]
    for p, scale in zip(params[:3], (1.0, 3.0, 0.2)):
        p.grad = torch.randn(p.shape, generator=g) * scale
    return params  # the last parameter has no gradient


def _per_tensor_clip(grads, max_norm):
    return [g * min(1.0, max_norm / (g.norm().item() + 1e-6)) for g in grads]


def check_clip_by_total_norm(fn) -> bool:
    """Exercise 02.1: ``fn(parameters, max_norm)`` clips all gradients together, in place, and returns the norm."""
    title = "clipping by norm"
    if fn is None:
        return report(title, False, "not yet solved - define clip_by_total_norm(parameters, max_norm).")
    for seed, max_norm in [(0, 0.5), (1, 1e3), (2, 2.0)]:
        params, reference = _grads_case(seed), _grads_case(seed)
        before = [p.grad.clone() for p in params if p.grad is not None]
        truth = nn.utils.clip_grad_norm_(reference, max_norm).item()
        got, failed = _run(title, fn, params, max_norm)
        if failed is not None:
            return failed
        after = [p.grad for p in params if p.grad is not None]
        wanted = [p.grad for p in reference if p.grad is not None]
        if params[-1].grad is not None:
            return report(title, False, "a parameter without a gradient got one; skip parameters whose .grad is None.")
        if all(torch.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(after, wanted)):
            if got is None:
                return report(title, False, "the gradients are right, but return the total norm measured before clipping.")
            value = float(got)
            if abs(value - truth) > 1e-4 * truth:
                hint = " (that is the norm after clipping)" if abs(value - min(truth, max_norm)) < 1e-3 else ""
                return report(title, False, f"returned {value:.4f}, expected the norm before clipping, {truth:.4f}{hint}.")
            continue
        if all(torch.equal(a, b) for a, b in zip(after, before)) and truth > max_norm:
            return report(title, False, "the gradients were not changed: scale each p.grad in place, e.g. p.grad.mul_(factor).")
        if truth <= max_norm:
            return report(title, False, f"the total norm {truth:.3g} is below max_norm={max_norm:g}, so the gradients must stay "
                                        "as they are: the factor is min(1, max_norm / norm).")
        if all(torch.allclose(a, w, rtol=1e-4, atol=1e-7) for a, w in zip(after, _per_tensor_clip(before, max_norm))):
            return report(title, False, "you clipped each tensor on its own; the norm is over all gradients together, "
                                        "sqrt(sum of every squared entry), and one factor scales them all.")
        return report(title, False, f"with max_norm={max_norm:g} the clipped gradients differ from clip_grad_norm_'s; every "
                                    "gradient is multiplied by the same factor max_norm / total_norm.")
    return report(title, True, "same gradients and same returned norm as torch.nn.utils.clip_grad_norm_, "
                               "with and without clipping, and parameters without a gradient are skipped.")


def check_rnn_shapes(fn) -> bool:
    """Exercise 02.2: ``fn(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional)`` -> (output, h_n) shapes."""
    title = "RNN shapes"
    if fn is None:
        return report(title, False, "not yet solved - define rnn_shapes(batch_size, seq_len, input_size, hidden_size, num_layers, bidirectional=False).")
    cases = list(itertools.product([1, 3], [1, 5], [2], [4, 6], [1, 2, 3], [False, True]))
    for B, T, D, H, L, bi in cases:
        rnn = nn.RNN(D, H, num_layers=L, batch_first=True, bidirectional=bi)
        with torch.no_grad():
            out, h_n = rnn(torch.zeros(B, T, D))
        truth = (tuple(out.shape), tuple(h_n.shape))
        got, failed = _run(title, fn, B, T, D, H, L, bidirectional=bi)
        if failed is not None:
            return failed
        try:
            got = (tuple(got[0]), tuple(got[1]))
        except (TypeError, IndexError):
            return report(title, False, f"return two shapes, (output_shape, h_n_shape), not {got!r}.")
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
        return report(title, False, f"for {case} nn.RNN gives output {truth[0]} and h_n {truth[1]}, yours {got[0]} and {got[1]}; {hint}")
    return report(title, True, f"output and h_n shapes match nn.RNN(batch_first=True) in all {len(cases)} cases.")


def check_longest_solved(fn) -> bool:
    """Exercise 02.3: ``fn(accuracy_at, distances, threshold=0.9)`` finds the last solved distance by bisection."""
    title = "longest solved distance"
    if fn is None:
        return report(title, False, "not yet solved - define longest_solved(accuracy_at, distances, threshold=0.9).")
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
            got, failed = _run(title, fn, accuracy_at, list(distances), threshold=threshold)
            if failed is not None:
                return failed
            if got != expected:
                if cut < 0:
                    hint = "when even the shortest distance fails, return None."
                elif (got is None and cut == 0) or (got in distances and abs(distances.index(got) - cut) == 1):
                    hint = "off by one: 'reaches the threshold' means accuracy >= threshold, and keep the last success, not the first failure."
                else:
                    hint = "keep the largest distance whose accuracy is >= threshold."
                return report(title, False, f"with threshold {threshold} and accuracy falling after distance {expected}, "
                                            f"you returned {got!r}; {hint}")
            most_calls = max(most_calls, len(calls))
    if most_calls > limit:
        return report(title, False, f"right answers, but up to {most_calls} models trained for {len(distances)} distances; "
                                    f"bisection needs at most {limit}: test the middle, then keep the half that can still hold the answer.")
    return report(title, True, f"right answer for every cut-off (and none), with at most {limit} models trained per search.")
