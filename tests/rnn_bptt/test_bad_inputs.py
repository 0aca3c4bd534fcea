"""Chapter 02's public functions refuse bad input with one sentence that names the offending argument.

One row per case: (function, positional arguments, keyword arguments, exception type, the argument's name).
"""

import pytest
import torch
import torch.nn as nn

from course_utils.rnn_bptt import gradients, seq2seq, tasks, views

IMAGES = torch.rand(4, 1, 5, 6, generator=torch.Generator().manual_seed(0))
CODEBOOK = torch.rand(3, 6, generator=torch.Generator().manual_seed(1))
TOKENS = torch.zeros(2, 5, dtype=torch.int64)
W_HH, W_XH, X = torch.eye(4) * 0.9, torch.ones(4, 2) / 2, torch.randn(3, 6, 2, generator=torch.Generator().manual_seed(2))
RNN = nn.RNN(2, 4, batch_first=True)
CURVES = {(n, r, s): torch.ones(5) * r for n in ("tanh", "identity") for r in (0.5, 1.0) for s in (1.0,)}


def _nan(t):
    t = t.clone()
    t.view(-1)[0] = float("nan")
    return t


CASES = [
    # tasks: images as row tokens
    ("tasks.fit_row_codebook", ([[0.5]],), {}, TypeError, "images"),
    ("tasks.fit_row_codebook", (torch.rand(4, 5, 6),), {}, ValueError, "images"),
    ("tasks.fit_row_codebook", ((IMAGES * 255).to(torch.uint8),), {"num_tokens": 2}, ValueError, "images"),
    ("tasks.fit_row_codebook", (_nan(IMAGES),), {"num_tokens": 2}, ValueError, "images"),
    ("tasks.fit_row_codebook", (torch.rand(0, 1, 5, 6),), {"num_tokens": 2}, ValueError, "images"),
    ("tasks.fit_row_codebook", (IMAGES,), {"num_tokens": 2.5}, ValueError, "num_tokens"),
    ("tasks.fit_row_codebook", (IMAGES,), {"num_tokens": 2, "num_iters": True}, ValueError, "num_iters"),
    ("tasks.fit_row_codebook", (IMAGES,), {"num_tokens": 2, "num_iters": -1}, ValueError, "num_iters"),
    ("tasks.fit_row_codebook", (IMAGES,), {"num_tokens": 2, "max_rows": 0}, ValueError, "max_rows"),
    ("tasks.fit_row_codebook", (IMAGES,), {"num_tokens": 2, "seed": -3}, ValueError, "seed"),
    ("tasks.rows_to_tokens", (IMAGES.numpy(), CODEBOOK), {}, TypeError, "images"),
    ("tasks.rows_to_tokens", (IMAGES, CODEBOOK.tolist()), {}, TypeError, "codebook"),
    ("tasks.rows_to_tokens", (IMAGES, torch.rand(3, 5)), {}, ValueError, "codebook"),
    ("tasks.rows_to_tokens", (IMAGES, torch.ones(3, 6, dtype=torch.int64)), {}, ValueError, "codebook"),
    ("tasks.rows_to_tokens", (IMAGES, _nan(CODEBOOK)), {}, ValueError, "codebook"),
    ("tasks.rows_to_tokens", (IMAGES, CODEBOOK), {"chunk_size": 0}, ValueError, "chunk_size"),
    ("tasks.tokens_to_images", ([[0, 1]], CODEBOOK), {}, TypeError, "tokens"),
    ("tasks.tokens_to_images", (TOKENS.float(), CODEBOOK), {}, ValueError, "tokens"),
    ("tasks.tokens_to_images", (TOKENS + 3, CODEBOOK), {}, ValueError, "tokens"),
    ("tasks.tokens_to_images", (TOKENS, None), {}, TypeError, "codebook"),
    # tasks: memory tasks
    ("tasks.recall_task", (4, 3), {"generator": 0}, TypeError, "generator"),
    ("tasks.recall_task", (0, 3), {}, ValueError, "num_sequences"),
    ("tasks.recall_task", (True, 3), {}, ValueError, "num_sequences"),
    ("tasks.recall_task", (4, 2.0), {}, ValueError, "distance"),
    ("tasks.echo_stream", (3, 10, 2), {"vocab_size": 1}, ValueError, "vocab_size"),
    ("tasks.echo_stream", (3, 10, 2), {"vocab_size": 0}, ValueError, "vocab_size"),
    ("tasks.echo_stream", (3, 10.0, 2), {}, ValueError, "length"),
    ("tasks.echo_stream", (3, 10, 2), {"generator": "seed"}, TypeError, "generator"),
    ("tasks.adding_problem", (10, 1), {}, ValueError, "length"),
    ("tasks.adding_problem", (5.0, 10), {}, ValueError, "num_sequences"),
    ("tasks.adding_problem", (5, 10), {"generator": 42}, TypeError, "generator"),
    # gradients
    ("gradients.recurrent_matrix", (4, float("nan")), {}, ValueError, "radius"),
    ("gradients.recurrent_matrix", (4, float("inf")), {}, ValueError, "radius"),
    ("gradients.recurrent_matrix", (4, "1.0"), {}, ValueError, "radius"),
    ("gradients.recurrent_matrix", (0, 1.0), {}, ValueError, "hidden_dim"),
    ("gradients.recurrent_matrix", (True, 1.0), {}, ValueError, "hidden_dim"),
    ("gradients.recurrent_matrix", (4, 1.0), {"generator": 0}, TypeError, "generator"),
    ("gradients.hidden_gradient_norms", (W_HH.tolist(), W_XH, X), {}, TypeError, "W_hh"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, X[0]), {}, ValueError, "x"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, X[:, :0]), {}, ValueError, "x"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, X.long()), {}, ValueError, "x"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, _nan(X)), {}, ValueError, "x"),
    ("gradients.hidden_gradient_norms", (W_HH[:, :3], W_XH, X), {}, ValueError, "W_hh"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH[:, :1], X), {}, ValueError, "W_xh"),
    ("gradients.hidden_gradient_norms", (W_HH.double(), W_XH, X), {}, ValueError, "W_hh"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, X), {"readout": torch.ones(3)}, ValueError, "readout"),
    ("gradients.hidden_gradient_norms", (W_HH, W_XH, X), {"nonlinearity": "sigmoid"}, ValueError, "nonlinearity"),
    ("gradients.gradient_norm_curves", ([],), {}, ValueError, "radii"),
    ("gradients.gradient_norm_curves", (1.0,), {}, TypeError, "radii"),
    ("gradients.gradient_norm_curves", ([-1.0],), {"num_steps": 5}, ValueError, "radii"),
    ("gradients.gradient_norm_curves", ([1.0],), {"nonlinearities": "tanh"}, TypeError, "nonlinearities"),
    ("gradients.gradient_norm_curves", ([1.0],), {"input_scales": ()}, ValueError, "input_scales"),
    ("gradients.gradient_norm_curves", ([1.0],), {"num_steps": 0}, ValueError, "num_steps"),
    ("gradients.gradient_norm_curves", ([1.0],), {"hidden_dim": 2.5}, ValueError, "hidden_dim"),
    ("gradients.input_gradient_norms", ("model", X), {}, TypeError, "fn"),
    ("gradients.input_gradient_norms", (RNN, X[0]), {}, ValueError, "inputs"),
    ("gradients.input_gradient_norms", (RNN, X[:0]), {}, ValueError, "inputs"),
    ("gradients.input_gradient_norms", (RNN, X.long()), {}, ValueError, "inputs"),
    ("gradients.input_gradient_norms", (lambda e: 3, X), {}, ValueError, "fn"),
    ("gradients.input_gradient_norms", (lambda e: torch.zeros(2), X), {}, ValueError, "fn"),
    # views
    ("views.unrolled_figure", (True,), {}, ValueError, "num_steps"),
    ("views.unrolled_figure", (2.0,), {}, ValueError, "num_steps"),
    ("views.gradient_curves_figure", ([],), {}, TypeError, "curves"),
    ("views.gradient_curves_figure", (CURVES,), {"nonlinearities": "tanh"}, ValueError, "nonlinearities"),
    ("views.gradient_curves_figure", (CURVES,), {"radii": [0.7]}, ValueError, "radii"),
    ("views.gradient_curves_figure", (CURVES,), {"input_scale": 3.0}, ValueError, "input_scale"),
    ("views.gradient_curves_figure", (CURVES,), {"title": 5}, TypeError, "title"),
    ("views.gradient_view", ({},), {}, ValueError, "curves"),
    ("views.gradient_view", (list(CURVES),), {}, TypeError, "curves"),
    ("views.gradient_view", ({k: v for k, v in CURVES.items() if k != ("identity", 0.5, 1.0)},), {}, ValueError, "curves"),
    ("views.gradient_view", (CURVES,), {"radius": 0.7}, ValueError, "radius"),
    ("views.gradient_view", (CURVES,), {"nonlinearity": "relu"}, ValueError, "nonlinearity"),
    ("views.gradient_view", (CURVES,), {"input_scale": 0.1}, ValueError, "input_scale"),
    # seq2seq (§4): token ids outside the vocabulary, lengths that are not ints
    ("seq2seq.teacher_forcing_inputs", (TOKENS - 1, 5), {}, ValueError, "targets"),
    ("seq2seq.last_real_states", (X, "abc"), {}, TypeError, "lengths"),
    ("seq2seq.last_real_states", (X, None), {}, TypeError, "lengths"),
    ("seq2seq.last_real_states", (X, [True, True, True]), {}, ValueError, "lengths"),
]
MODULES = {"tasks": tasks, "gradients": gradients, "views": views, "seq2seq": seq2seq}
ENCODER_DECODER = seq2seq.EncoderDecoder(5, embed_dim=4, hidden_dim=6)


@pytest.mark.parametrize("decoder_inputs", [TOKENS + 6, TOKENS - 1], ids=["above-the-start-token", "negative"])
def test_encoder_decoder_refuses_decoder_inputs_outside_the_vocabulary(decoder_inputs):
    with pytest.raises(ValueError, match=r"decoder_inputs must hold token ids in \[0, 5\]"):
        ENCODER_DECODER(TOKENS, decoder_inputs)


def _resolve(path, modules=MODULES):
    module, name = path.split(".")
    return getattr(modules[module], name)


@pytest.mark.parametrize(("path", "args", "kwargs", "error", "argument"), CASES,
                         ids=[f"{c[0]}-{c[4]}-{i}" for i, c in enumerate(CASES)])
def test_bad_input_is_refused_naming_the_argument(path, args, kwargs, error, argument):
    with pytest.raises(error) as caught:
        _resolve(path)(*args, **kwargs)
    message = str(caught.value)
    assert argument in message, message
    assert message.endswith(".") and message.count("\n") == 0, message  # one sentence, one line


def test_the_table_is_big_enough():
    assert len(CASES) >= 30 and {c[0].split(".")[0] for c in CASES} == set(MODULES)
