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


# ---------------------------------------------------------------- chapter 06 (variational autoencoders)

def _kl_reference(mu, logvar):
    return 0.5 * (mu**2 + logvar.exp() - 1 - logvar)


def check_gaussian_kl(fn) -> bool:
    """Exercise 06.1: ``fn(mu, logvar)`` is KL(N(mu, exp(logvar)) || N(0, 1)) element by element."""
    title = "Gaussian KL"
    if fn is None:
        return report(title, False, "not yet solved - define kl_to_standard_normal(mu, logvar).")
    zero, failed = _run(title, fn, torch.zeros(3), torch.zeros(3))
    if failed is not None:
        return failed
    if not isinstance(zero, torch.Tensor) or zero.shape != (3,):
        shape = tuple(zero.shape) if isinstance(zero, torch.Tensor) else type(zero).__name__
        return report(title, False, f"return one KL per element (shape of mu, here (3,)), got {shape}; do not sum.")
    if not torch.allclose(zero, torch.zeros(3), atol=1e-6):
        return report(title, False, f"the KL of N(0, 1) to itself must be 0, got {zero.tolist()}; check the -1 and -logvar terms.")
    g = torch.Generator().manual_seed(0)
    mu, logvar = torch.randn(5, 4, generator=g), torch.randn(5, 4, generator=g)
    got, failed = _run(title, fn, mu, logvar)
    if failed is not None:
        return failed
    want = _kl_reference(mu, logvar)
    if torch.allclose(got, 2 * want, atol=1e-4):
        return report(title, False, "twice the right value: the closed form has a factor 1/2.")
    if torch.allclose(got, 0.5 * (mu**2 + logvar.exp() ** 2 - 1 - 2 * logvar), atol=1e-4):
        return report(title, False, "logvar is log(sigma^2): sigma^2 = exp(logvar), not exp(logvar)^2.")
    if not torch.allclose(got, want, atol=1e-4):
        return report(title, False, "values differ from 0.5 * (mu^2 + sigma^2 - 1 - log sigma^2) with sigma^2 = exp(logvar).")
    q = torch.distributions.Normal(mu, (0.5 * logvar).exp())
    z = q.sample((20000,))
    mc = (q.log_prob(z) - torch.distributions.Normal(0.0, 1.0).log_prob(z)).mean(0)
    err = (mc - got).abs().max().item()
    return report(title, True, f"0 at the prior, and within {err:.3f} nats of a 20,000-sample Monte-Carlo estimate everywhere.")


def check_reparameterize(fn) -> bool:
    """Exercise 06.2: ``fn(mu, logvar)`` samples N(mu, exp(logvar)) differentiably in mu and logvar."""
    title = "reparameterize"
    if fn is None:
        return report(title, False, "not yet solved - define sample_z(mu, logvar).")
    torch.manual_seed(0)
    mu = torch.full((50000,), 2.0, requires_grad=True)
    logvar = torch.full((50000,), torch.tensor(0.25).log().item(), requires_grad=True)
    z, failed = _run(title, fn, mu, logvar)
    if failed is not None:
        return failed
    if not isinstance(z, torch.Tensor) or z.shape != mu.shape:
        shape = tuple(z.shape) if isinstance(z, torch.Tensor) else type(z).__name__
        return report(title, False, f"return one sample per element, shape {tuple(mu.shape)}; got {shape}.")
    mean, std = z.mean().item(), z.std().item()
    if abs(mean - 2) > 0.02:
        return report(title, False, f"the samples' mean is {mean:.2f}, not mu = 2; add mu.")
    if abs(std - 0.25) < 0.02:
        return report(title, False, "the samples' spread is sigma^2 = 0.25, not sigma = 0.5: use exp(0.5 * logvar).")
    if abs(std - 0.5) > 0.02:
        return report(title, False, f"the samples' standard deviation is {std:.2f}, expected sigma = exp(0.5 * logvar) = 0.5.")
    if not z.requires_grad:
        return report(title, False, "the sample is cut off from mu and logvar; draw eps ~ N(0, 1) and return mu + sigma * eps.")
    z.pow(2).mean().backward()
    g_mu = 0.0 if mu.grad is None else mu.grad.sum().item()
    g_lv = 0.0 if logvar.grad is None else logvar.grad.sum().item()
    if abs(g_mu - 4) > 0.1 or abs(g_lv - 0.25) > 0.03:
        return report(title, False, f"gradients of E[z^2] should be 2 mu = 4 and sigma^2 = 0.25, got {g_mu:.2f} and {g_lv:.2f}.")
    return report(title, True, f"mean {mean:.2f}, std {std:.2f}, and the gradients of E[z^2] reach mu ({g_mu:.2f}) and logvar ({g_lv:.2f}).")


def check_cvae(model: nn.Module) -> bool:
    """Exercise 06.3: a conditional VAE whose encoder and decoder both depend on the label."""
    title = "conditional VAE"
    if model is None:
        return report(title, False, "not yet solved - build the model and assign it to `my_cvae`.")
    for name in ("encode", "decode"):
        if not callable(getattr(model, name, None)):
            return report(title, False, f"the model needs a method `{name}` taking the label as second argument.")
    model.eval()
    g = torch.Generator().manual_seed(0)
    x, y = torch.rand(4, 1, 28, 28, generator=g), torch.tensor([0, 3, 5, 9])
    with torch.no_grad():
        stats, failed = _run(title, model.encode, x, y)
        if failed is not None:
            return failed
        if not (isinstance(stats, tuple | list) and len(stats) == 2 and stats[0].shape == stats[1].shape and stats[0].dim() == 2):
            return report(title, False, "encode(x, y) must return (mu, logvar), two tensors of shape (B, latent_dim).")
        mu, _ = stats
        other, _ = model.encode(x, (y + 1) % 10)
        z = torch.randn(mu.shape, generator=g)
        out, failed = _run(title, model.decode, z, y)
        if failed is not None:
            return failed
        if tuple(out.shape) != (4, 1, 28, 28):
            return report(title, False, f"decode(z, y) must give images (4, 1, 28, 28), got {tuple(out.shape)}.")
        if out.min() < 0 or out.max() > 1:
            return report(title, False, "decode must return probabilities in [0, 1]: apply a sigmoid to the logits.")
        changed = (model.decode(z, (y + 1) % 10) - out).abs().max().item()
    if changed < 1e-6:
        return report(title, False, "changing the label does not change the decoded image; feed y into the decoder.")
    if torch.allclose(other, mu, atol=1e-6):
        return report(title, False, "the encoder ignores the label; q(z | x, y) should see y too.")
    return report(title, True, f"encode(x, y) and decode(z, y) both use the label (same z, other label: pixels move by up to {changed:.2f}).")


def check_vector_quantizer(fn) -> bool:
    """Exercise 06.4: ``fn(z_e, codebook) -> (z_q, indices)``: nearest codebook row, straight-through gradient."""
    title = "vector quantizer"
    if fn is None:
        return report(title, False, "not yet solved - define quantize(z_e, codebook).")
    g = torch.Generator().manual_seed(0)
    codebook = torch.randn(12, 5, generator=g).requires_grad_()
    z_e = torch.randn(30, 5, generator=g).requires_grad_()
    out, failed = _run(title, fn, z_e, codebook)
    if failed is not None:
        return failed
    if not (isinstance(out, tuple | list) and len(out) == 2):
        return report(title, False, "return a pair (z_q, indices).")
    z_q, indices = out
    want = torch.cdist(z_e.detach(), codebook.detach()).argmin(1)
    if not isinstance(indices, torch.Tensor) or indices.shape != (30,):
        return report(title, False, "indices must be a tensor with one code number per vector, shape (N,).")
    if not torch.equal(indices.long(), want):
        far = torch.cdist(z_e.detach(), codebook.detach()).argmax(1)
        hint = "you picked the farthest row: take argmin of the distances." if torch.equal(indices.long(), far) else \
            "each index must be the row of the codebook closest in Euclidean distance."
        return report(title, False, f"wrong nearest neighbours for {(indices.long() != want).sum().item()} of 30 vectors; {hint}")
    if not isinstance(z_q, torch.Tensor) or not torch.allclose(z_q, codebook[want], atol=1e-5):
        return report(title, False, "z_q must equal the chosen codebook rows in the forward pass.")
    if not z_q.requires_grad:
        return report(title, False, "z_q carries no gradient; return z_e + (z_q - z_e).detach().")
    z_q.sum().backward()
    if z_e.grad is None or not torch.allclose(z_e.grad, torch.ones_like(z_e)):
        return report(title, False, "the gradient must pass straight through to z_e unchanged; use z_e + (z_q - z_e).detach().")
    if codebook.grad is not None and codebook.grad.abs().sum() > 0:
        return report(title, False, "the codebook receives gradient through z_q; detach it (it learns from the codebook loss).")
    return report(title, True, "nearest neighbours right, forward values are codebook rows, gradient straight through to z_e only.")


# ---------------------------------------------------------------- chapter 03 (LSTM and GRU)

def check_charlm_param_count(fn) -> bool:
    """Exercise 03.1: ``fn(vocab_size, embed_dim, hidden_dim, num_layers, cell)`` counts a CharLM's parameters."""
    from . import charlm

    title = "character model parameters"
    if fn is None:
        return report(title, False, "not yet solved - define charlm_param_count(vocab_size, embed_dim, hidden_dim, num_layers, cell).")
    cases = list(itertools.product([96, 10], [8, 64], [16, 128], [1, 2, 3], ["lstm", "gru"]))
    for V, E, H, L, cell in cases:
        model = charlm.CharLM(V, E, H, num_layers=L, cell=cell)
        truth = sum(p.numel() for p in model.parameters())
        got, failed = _run(title, fn, V, E, H, L, cell)
        if failed is not None:
            return failed
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


def check_forget_bias(fn) -> bool:
    """Exercise 03.2: ``fn(lstm, value)`` sets the forget-gate biases of every layer so that they add up to ``value``."""
    title = "forget-gate bias"
    if fn is None:
        return report(title, False, "not yet solved - define set_forget_bias(lstm, value).")
    for layers, H, value in [(1, 5, 1.0), (2, 3, 2.5), (3, 4, -1.0)]:
        torch.manual_seed(0)
        lstm = nn.LSTM(2, H, num_layers=layers)
        before = {n: p.detach().clone() for n, p in lstm.named_parameters()}
        _, failed = _run(title, fn, lstm, value)
        if failed is not None:
            return failed
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
                                            f"{total[H:2 * H].mean():.2f} on average, not {value}; change every layer.")
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


def check_is_causal(fn) -> bool:
    """Exercise 03.3: ``fn(model)`` is True exactly when no output depends on a later input."""
    title = "causality test"
    if fn is None:
        return report(title, False, "not yet solved - define is_causal(model, length=24).")
    torch.manual_seed(0)
    cases = [("a one-direction GRU", _Causal(), True), ("a bidirectional LSTM returning (logits, state)", _Bidirectional(), False),
             ("a model that peeks exactly one character ahead", _Peeking(), False)]
    for name, model, truth in cases:
        got, failed = _run(title, fn, model)
        if failed is not None:
            return failed
        if bool(got) != truth:
            hint = ("change only the inputs *after* position t and compare the outputs at positions <= t."
                    if truth else "change the inputs after t (all of them, and also just the next one) and compare "
                    "outputs up to t with a tolerance such as 1e-5.")
            return report(title, False, f"for {name} the answer is {truth}, yours {got!r}; {hint}")
    return report(title, True, "tells causal from bidirectional and from a one-step leak.")


# ---------------------------------------------------------------- chapter 04 (GANs)

def check_non_saturating_loss(fn) -> bool:
    """Exercise 04.1: ``fn(fake_logits)`` returns mean(-log sigmoid(logit)), finite even for very negative logits."""
    title = "non-saturating loss"
    if fn is None:
        return report(title, False, "not yet solved - define non_saturating_loss(fake_logits).")
    logits = torch.tensor([[-3.0], [-0.5], [0.0], [1.0], [4.0]])
    got, failed = _run(title, fn, logits)
    if failed is not None:
        return failed
    want = F.softplus(-logits).mean()
    if not isinstance(got, torch.Tensor) or got.numel() != 1:
        return report(title, False, f"return one number (a 0-d tensor, the mean over the batch), got {got!r}.")
    if torch.allclose(got, -F.softplus(logits).mean(), atol=1e-5):
        return report(title, False, "that is the saturating loss log(1 - D(G(z))); the non-saturating one is -log D(G(z)).")
    if torch.allclose(got, F.softplus(-logits).sum(), atol=1e-4):
        return report(title, False, "average over the batch (mean), do not sum.")
    if torch.allclose(got, -want, atol=1e-5):
        return report(title, False, "the sign is flipped: the generator *minimizes* -log D(G(z)).")
    if not torch.allclose(got, want, atol=1e-5):
        return report(title, False, f"for logits {logits.flatten().tolist()} expected {want.item():.4f}, got {float(got):.4f}; "
                                    "D(G(z)) is sigmoid(logit).")
    extreme, failed = _run(title, fn, torch.tensor([[-200.0], [0.0]]))
    if failed is not None:
        return failed
    if not torch.isfinite(extreme).all() or abs(float(extreme) - F.softplus(torch.tensor([200.0, 0.0])).mean().item()) > 1e-3:
        return report(title, False, "right for ordinary logits, but not finite at logit -200: sigmoid rounds to 0 and its log "
                                    "to -inf; use F.softplus(-logit) or F.logsigmoid(logit).")
    logits = torch.randn(6, 1, requires_grad=True)
    value, failed = _run(title, fn, logits)
    if failed is not None:
        return failed
    if not value.requires_grad:
        return report(title, False, "the result has no gradient; compute it with torch operations on the logits.")
    return report(title, True, "mean of -log sigmoid(logit), stable at logit -200, and differentiable.")


def check_toy_gan_coverage(G, num_samples: int = 2000) -> bool:
    """Exercise 04.2: a toy generator whose samples cover all 8 modes of the chapter's ring (radius 2, std 0.05)."""
    from . import gan

    title = "rescued toy GAN"
    if G is None:
        return report(title, False, "not yet solved - train a toy GAN and pass its generator (model.G).")
    if not hasattr(G, "latent_dim"):
        return report(title, False, "pass the generator itself (e.g. rescued.G), which has an attribute latent_dim.")
    z = torch.randn(num_samples, G.latent_dim, generator=torch.Generator().manual_seed(0))
    was_training = G.training
    G.eval()
    with torch.no_grad():
        points, failed = _run(title, G, z)
    G.train(was_training)
    if failed is not None:
        return failed
    if not isinstance(points, torch.Tensor) or tuple(points.shape) != (num_samples, 2):
        return report(title, False, f"the generator must map z to 2-D points ({num_samples}, 2), got {getattr(points, 'shape', points)}.")
    count = gan.count_modes(points.cpu(), gan.ring_centers(8, 2.0), max_dist=3 * 0.05)
    if count.covered <= 2:
        return report(title, False, f"still collapsed: {count}. Let D keep up with G: a larger lr_d, or d_steps > 1.")
    if count.covered < 8:
        return report(title, False, f"better, but {count}; train longer or give D a little more (lr_d or d_steps).")
    if count.quality < 0.5:
        return report(title, False, f"all modes reached, but only {count.quality:.0%} of the samples lie near one; train longer.")
    return report(title, True, f"{count}.")


def check_spectral_discriminator(model: nn.Module) -> bool:
    """Exercise 04.3: a discriminator whose every conv/linear weight is spectrally normalized, without batch norm."""
    from torch.nn.utils import parametrize

    title = "spectral-norm discriminator"
    if model is None:
        return report(title, False, "not yet solved - build the model, e.g. sn_discriminator(32).")
    if not isinstance(model, nn.Module):
        return report(title, False, f"pass the model (an nn.Module), not {type(model).__name__}.")
    layers = [m for m in model.modules() if isinstance(m, nn.Conv2d | nn.Linear)]
    if len(layers) < 3:
        return report(title, False, f"found {len(layers)} conv/linear layer(s); the discriminator has two convs and a linear layer.")
    plain = [type(m).__name__ for m in layers if not parametrize.is_parametrized(m, "weight")]
    if plain:
        return report(title, False, f"{len(plain)} layer(s) ({', '.join(plain)}) have no spectral norm; wrap each with "
                                    "torch.nn.utils.parametrizations.spectral_norm(layer).")
    norms = [m for m in model.modules() if isinstance(m, nn.BatchNorm1d | nn.BatchNorm2d)]
    if norms:
        return report(title, False, "remove the batch norm: spectral normalization replaces it in the discriminator.")
    model.train()
    with torch.no_grad():
        for _ in range(15):  # each training-mode pass refines the power iteration
            out, failed = _run(title, model, torch.randn(4, 1, 28, 28))
            if failed is not None:
                return failed
    if tuple(out.shape) != (4, 1):
        return report(title, False, f"a batch of 4 images must give 4 logits shaped (4, 1), got {tuple(out.shape)}.")
    sigmas = [torch.linalg.matrix_norm(m.weight.detach().flatten(1), ord=2).item() for m in layers]
    if max(sigmas) > 1.05:
        return report(title, False, f"largest singular values {[round(s, 2) for s in sigmas]}; each should be about 1.")
    return report(title, True, f"{len(layers)} spectrally normalized layers, no batch norm, largest singular values "
                               f"{', '.join(f'{s:.2f}' for s in sigmas)}.")
