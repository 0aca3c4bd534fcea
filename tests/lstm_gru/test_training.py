"""Chapter 03's truncated BPTT: streams that continue each other, the loop (best weights, NaN stop), nats per character."""

import copy
import math

import pytest
import torch
import torch.nn.functional as F

from course_utils import train
from course_utils.lstm_gru import charlm, models, training


def test_stream_batches_continue_each_other():
    tokens = torch.arange(1000) % 96
    chunks = training.stream_batches(tokens, batch_size=4, seq_len=10)
    (X0, Y0), (X1, _) = chunks[0], chunks[1]
    assert X0.shape == (4, 10) and torch.equal(Y0[:, :-1], X0[:, 1:])   # targets: the next character
    assert torch.equal(X1[:, 0], Y0[:, -1])                              # chunk 1 starts where chunk 0 stopped
    assert torch.equal(X0[1, 0], tokens[(len(tokens) - 1) // 4])          # row b is the b-th quarter of the text
    with pytest.raises(ValueError, match="too few"):
        training.stream_batches(tokens[:20], batch_size=4, seq_len=10)


def test_detach_state_cuts_the_graph():
    h = torch.ones(2, 3, requires_grad=True) * 2
    state = training.detach_state((h, h))
    assert all(not s.requires_grad for s in state)
    assert not training.detach_state(h).requires_grad and training.detach_state(None) is None


def test_training_lowers_the_loss_and_evaluation_is_in_nats():
    tokens = charlm.encode("abcd" * 600)
    train_tokens, val_tokens = charlm.split(tokens)
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=32)
    before = training.evaluate_nats(model, val_tokens, batch_size=2, seq_len=32)
    assert abs(before - math.log(96)) < 0.5   # an untrained model is near uniform
    history = training.fit_charlm(model, train_tokens, val_tokens, num_epochs=10, batch_size=4, seq_len=32, lr=1e-2)
    assert history["best_val_nats"] < 0.3 and history["val_nats"][-1] < before
    assert len(history["step"]) == 10 and not model.training


@pytest.fixture(scope="module")
def memory_model():
    """A small LSTM language model with a long memory (forget gates held open), in eval mode."""
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    with torch.no_grad():
        model.rnn.bias_ih_l0[16:32] = 4.0
        model.head.weight.mul_(10)
    return model.eval()


def test_evaluate_nats_carries_the_state_and_counts_every_character_once(memory_model):
    """Chunking is only a memory saving: seq_len=7 (last chunk 2 characters long) gives the mean over all characters
    of one pass over each whole stream. Resetting the state per chunk, or averaging per chunk, breaks this."""
    tokens = charlm.encode(("the state carries on. " * 20)[:301])
    X = tokens[:300].view(3, 100)
    Y = tokens[1:301].view(3, 100)
    with torch.no_grad():
        reference = F.cross_entropy(memory_model(X)[0].flatten(0, 1), Y.flatten()).item()
    assert training.evaluate_nats(memory_model, tokens, batch_size=3, seq_len=7) == pytest.approx(reference, abs=1e-5)
    assert training.evaluate_nats(memory_model, tokens, batch_size=3, seq_len=100) == pytest.approx(reference, abs=1e-5)


def test_evaluate_nats_runs_in_eval_mode_and_restores_the_mode():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=16, dropout=0.5).train()
    tokens = charlm.encode("dropout must be off while measuring. " * 4)
    first, second = (training.evaluate_nats(model, tokens, batch_size=2, seq_len=16) for _ in range(2))
    assert model.training
    assert first == second == training.evaluate_nats(model.eval(), tokens, batch_size=2, seq_len=16)


def test_fit_charlm_restores_the_best_epoch():
    torch.manual_seed(0)
    model = models.CharLM(embed_dim=8, hidden_dim=32)
    snapshots = []  # the weights at the end of each epoch (log is called right after the epoch's evaluation)
    history = training.fit_charlm(model, charlm.encode("the cat sat on the mat. " * 40),
                                  charlm.encode("a dog ran in the fog! " * 10), num_epochs=4, batch_size=4, seq_len=16,
                                  lr=3e-2, log=lambda _: snapshots.append(copy.deepcopy(model.state_dict())))
    best = history["val_nats"].index(min(history["val_nats"]))
    assert best < len(snapshots) - 1, "the test needs a run whose last epoch is not its best"
    assert all(torch.equal(v, snapshots[best][k]) for k, v in model.state_dict().items())
    assert history["best_val_nats"] == min(history["val_nats"])


class Diverging(models.CharLM):
    """Returns NaN logits from its ``at_call``-th training forward pass on."""

    def __init__(self, at_call, **kwargs):
        super().__init__(**kwargs)
        self.at_call, self.calls = at_call, 0

    def forward(self, tokens, state=None):
        logits, state = super().forward(tokens, state)
        if self.training:
            self.calls += 1
            if self.calls >= self.at_call:
                logits = logits * float("nan")
        return logits, state


@pytest.mark.parametrize("epoch, batch", [(1, 3), (2, 1)])
def test_a_nan_loss_stops_training_with_the_last_finished_epochs_weights(epoch, batch):
    train_tokens, val_tokens = charlm.encode("abcdefgh" * 40), charlm.encode("hgfedcba" * 8)
    num_chunks = len(training.stream_batches(train_tokens, 4, 16))
    torch.manual_seed(0)
    model = Diverging(at_call=(epoch - 1) * num_chunks + batch, embed_dim=8, hidden_dim=16)
    snapshots = [copy.deepcopy(model.state_dict())]
    with pytest.raises(train.NonFiniteLoss) as err:
        training.fit_charlm(model, train_tokens, val_tokens, num_epochs=3, batch_size=4, seq_len=16, lr=1e-2,
                            log=lambda _: snapshots.append(copy.deepcopy(model.state_dict())))
    message = str(err.value)
    assert f"epoch {epoch}, batch {batch} of {num_chunks}" in message and "lower lr" in message and "max_norm" in message
    assert ("the start" if epoch == 1 else f"epoch {epoch - 1}") in message
    restored = model.state_dict()
    assert all(torch.isfinite(v).all() for v in restored.values())
    assert all(torch.equal(v, snapshots[epoch - 1][k]) for k, v in restored.items())


def test_bad_validation_text_fails_before_training():
    model = models.CharLM(embed_dim=8, hidden_dim=16)
    before = copy.deepcopy(model.state_dict())
    with pytest.raises(ValueError, match="tokens"):
        training.fit_charlm(model, charlm.encode("abcdefgh" * 40), torch.tensor([1]), num_epochs=1, batch_size=4, seq_len=16)
    assert all(torch.equal(v, before[k]) for k, v in model.state_dict().items())
