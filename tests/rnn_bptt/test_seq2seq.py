"""Chapter 02 §4's sequence-to-sequence pieces: reversal data, teacher forcing, the encoder–decoder, padded batches."""

import pytest
import torch
import torch.nn as nn
import torch.nn.functional as F

from course_utils.rnn_bptt import seq2seq


def test_reverse_task_pairs_each_source_with_its_reversal():
    source, target = seq2seq.reverse_task(5, 7, vocab_size=4, generator=torch.Generator().manual_seed(0))
    assert source.shape == target.shape == (5, 7) and source.dtype == torch.long
    assert source.min() >= 0 and source.max() < 4
    for s, t in zip(source.tolist(), target.tolist()):
        assert t == s[::-1]
    again, _ = seq2seq.reverse_task(5, 7, vocab_size=4, generator=torch.Generator().manual_seed(0))
    assert torch.equal(source, again)


def test_teacher_forcing_inputs_are_the_start_token_then_the_target_shifted_right():
    targets = torch.tensor([[3, 1, 2], [0, 0, 5]])
    assert seq2seq.teacher_forcing_inputs(targets, start_token=9).tolist() == [[9, 3, 1], [9, 0, 0]]


def test_forward_is_teacher_forced_and_causal():
    torch.manual_seed(0)
    model = seq2seq.EncoderDecoder(6, embed_dim=5, hidden_dim=8)
    source, target = seq2seq.reverse_task(3, 4, vocab_size=6, generator=torch.Generator().manual_seed(1))
    inputs = seq2seq.teacher_forcing_inputs(target, 6)
    logits = model(source, inputs)
    assert logits.shape == (3, 4, 6)
    changed = inputs.clone()
    changed[:, 2] = (changed[:, 2] + 1) % 6            # change the decoder's input at step 2 only
    other = model(source, changed)
    assert torch.allclose(logits[:, :2], other[:, :2])   # earlier steps cannot see it
    assert not torch.allclose(logits[:, 2], other[:, 2])


def test_generate_feeds_back_its_own_predictions():
    torch.manual_seed(0)
    model = seq2seq.EncoderDecoder(6, embed_dim=5, hidden_dim=8)
    source = torch.tensor([[1, 2, 3, 4], [5, 0, 1, 2]])
    tokens = model.generate(source, 4)
    assert tokens.shape == (2, 4)
    # greedy decoding is teacher forcing on its own output: feeding it back must reproduce it step by step
    logits = model(source, seq2seq.teacher_forcing_inputs(tokens, 6))
    assert torch.equal(logits.argmax(-1), tokens)


def test_a_short_training_run_learns_to_reverse():
    torch.manual_seed(0)
    model = seq2seq.EncoderDecoder(4, embed_dim=8, hidden_dim=32)
    optimizer = torch.optim.Adam(model.parameters(), lr=1e-2)
    g = torch.Generator().manual_seed(0)
    for _ in range(150):
        source, target = seq2seq.reverse_task(64, 3, vocab_size=4, generator=g)
        loss = F.cross_entropy(model(source, seq2seq.teacher_forcing_inputs(target, 4)).flatten(0, 1), target.flatten())
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    source, target = seq2seq.reverse_task(500, 3, vocab_size=4, generator=torch.Generator().manual_seed(9))
    assert (model.generate(source, 3) == target).float().mean() > 0.9


def test_last_real_states_equal_running_each_sequence_alone():
    torch.manual_seed(0)
    rnn = nn.RNN(3, 5, batch_first=True)
    lengths = torch.tensor([2, 5, 1])
    sequences = [torch.randn(n, 3) for n in lengths.tolist()]
    padded = nn.utils.rnn.pad_sequence(sequences, batch_first=True)
    out, h_last = rnn(padded)
    alone = torch.cat([rnn(seq[None])[1][0] for seq in sequences])
    picked = seq2seq.last_real_states(out, lengths)
    assert torch.allclose(picked, alone, atol=1e-6)
    assert not torch.allclose(h_last[0], alone, atol=1e-3)   # the plain last step read the padding
    assert torch.equal(seq2seq.last_real_states(out, [5, 5, 5]), out[:, -1])


@pytest.mark.parametrize(("call", "error", "argument"), [
    (lambda: seq2seq.reverse_task(0, 3), ValueError, "batch_size"),
    (lambda: seq2seq.reverse_task(2, 3, vocab_size=1), ValueError, "vocab_size"),
    (lambda: seq2seq.reverse_task(2, 3, generator=0), TypeError, "generator"),
    (lambda: seq2seq.teacher_forcing_inputs(torch.zeros(2, 3), 1), ValueError, "targets"),
    (lambda: seq2seq.teacher_forcing_inputs(torch.zeros(2, 3, dtype=torch.long), -1), ValueError, "start_token"),
    (lambda: seq2seq.EncoderDecoder(1), ValueError, "vocab_size"),
    (lambda: seq2seq.EncoderDecoder(4)(torch.full((2, 3), 4), torch.zeros(2, 3, dtype=torch.long)), ValueError, "source"),
    (lambda: seq2seq.EncoderDecoder(4)(torch.zeros(2, 3, dtype=torch.long), torch.zeros(3, 3, dtype=torch.long)),
     ValueError, "decoder_inputs"),
    (lambda: seq2seq.EncoderDecoder(4).generate(torch.zeros(2, 3, dtype=torch.long), 0), ValueError, "length"),
    (lambda: seq2seq.last_real_states(torch.zeros(2, 3), [1, 1]), ValueError, "output"),
    (lambda: seq2seq.last_real_states(torch.zeros(2, 3, 4), [1, 4]), ValueError, "lengths"),
    (lambda: seq2seq.last_real_states(torch.zeros(2, 3, 4), [1.0, 2.0]), ValueError, "lengths"),
])
def test_bad_input_is_refused_naming_the_argument(call, error, argument):
    with pytest.raises(error, match=argument):
        call()
