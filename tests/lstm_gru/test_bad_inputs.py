"""Chapter 03's public API refuses bad input with one clear sentence that names the offending argument.

Each case: (id, a call with one bad argument, the exception type, the name the message must contain).
"""

import pytest
import torch
import torch.nn as nn

from course_utils.lstm_gru import charlm, longrange, models, training, views

TEXT = "The cat sat on the mat.\n"


def tiny_lm(cell="lstm"):
    torch.manual_seed(0)
    return models.CharLM(embed_dim=4, hidden_dim=6, cell=cell)


def gates():
    return charlm.record_gates(tiny_lm(), TEXT)


TOKENS = charlm.encode(TEXT * 20)
CELL = models.LSTMCell(3, 4)
ADDER = longrange.adding_model("gru", hidden_dim=4)



def chunk():
    return training.stream_batches(TOKENS, 2, 8)[0]


def sgd():
    return torch.optim.SGD(tiny_lm().parameters(), lr=0.1)


def fit(train_tokens=TOKENS, **settings):
    return training.fit_charlm(tiny_lm(), train_tokens, TOKENS, num_epochs=1, batch_size=4, seq_len=8, **settings)


CASES = [
    # models
    ("LSTMCell input_dim 0", lambda: models.LSTMCell(0, 4), ValueError, "input_dim"),
    ("LSTMCell hidden_dim float", lambda: models.LSTMCell(4, 2.5), ValueError, "hidden_dim"),
    ("LSTMCell one state tensor", lambda: CELL(torch.zeros(2, 3), torch.zeros(2, 4)), TypeError, "state"),
    ("from_torch a GRU", lambda: models.LSTMCell.from_torch(nn.GRU(2, 3)), TypeError, "lstm"),
    ("from_torch a bidirectional LSTM", lambda: models.LSTMCell.from_torch(nn.LSTM(2, 3, bidirectional=True)), TypeError, "lstm"),
    ("from_torch layer out of range", lambda: models.LSTMCell.from_torch(nn.LSTM(2, 3), layer=1), ValueError, "layer"),
    ("run_cell x 2-D", lambda: models.run_cell(CELL, torch.zeros(4, 3)), ValueError, "x must"),
    ("run_cell x wrong width", lambda: models.run_cell(CELL, torch.zeros(2, 5, 7)), ValueError, "x must"),
    ("run_cell not an LSTMCell", lambda: models.run_cell(nn.Linear(3, 4), torch.zeros(2, 5, 3)), TypeError, "cell"),
    ("layer_param_count unknown kind", lambda: models.layer_param_count("transformer", 3, 4), ValueError, "kind"),
    ("layer_param_count input_dim 0", lambda: models.layer_param_count("lstm", 0, 4), ValueError, "input_dim"),
    ("layer_param_count hidden_dim float", lambda: models.layer_param_count("lstm", 3, 2.5), ValueError, "hidden_dim"),
    ("LastStepModel unknown kind", lambda: models.LastStepModel("transformer", 2, 1), ValueError, "kind"),
    ("LastStepModel output_dim 0", lambda: models.LastStepModel("lstm", 2, 0), ValueError, "output_dim"),
    ("CharLM unknown cell", lambda: models.CharLM(cell="transformer"), ValueError, "cell"),
    ("CharLM dropout 1.5", lambda: models.CharLM(dropout=1.5), ValueError, "dropout"),
    # charlm
    ("encode not a str", lambda: charlm.encode(5), TypeError, "text"),
    ("encode outside the alphabet", lambda: charlm.encode("café"), ValueError, "text"),
    ("decode index 96", lambda: charlm.decode([96]), ValueError, "indices"),
    ("decode index -1", lambda: charlm.decode([-1]), ValueError, "indices"),
    ("decode float index", lambda: charlm.decode([1.5]), TypeError, "indices"),
    ("decode 2-D tensor", lambda: charlm.decode(torch.tensor([[1, 2]])), TypeError, "indices"),
    ("split val_fraction 1.5", lambda: charlm.split(TOKENS, 1.5), ValueError, "val_fraction"),
    ("split a str", lambda: charlm.split("abcdef"), ValueError, "tokens"),
    ("load_corpus unknown name", lambda: charlm.load_corpus("wikipedia"), ValueError, "corpus"),
    ("download_verified bad sha256", lambda: charlm.download_verified("http://x.invalid", "/tmp/x", "abc"), ValueError, "sha256"),
    ("sample empty seed_text", lambda: charlm.sample(tiny_lm(), "", 5), ValueError, "seed_text"),
    ("sample num_chars -1", lambda: charlm.sample(tiny_lm(), "a", -1), ValueError, "num_chars"),
    ("sample num_chars float", lambda: charlm.sample(tiny_lm(), "a", 2.5), ValueError, "num_chars"),
    ("sample temperature -0.5", lambda: charlm.sample(tiny_lm(), "a", 5, -0.5), ValueError, "temperature"),
    ("sample temperature inf", lambda: charlm.sample(tiny_lm(), "a", 5, float("inf")), ValueError, "temperature"),
    ("sample temperature str", lambda: charlm.sample(tiny_lm(), "a", 5, "hot"), ValueError, "temperature"),
    ("record_gates a GRU model", lambda: charlm.record_gates(tiny_lm("gru"), TEXT), TypeError, "model"),
    ("record_gates empty text", lambda: charlm.record_gates(tiny_lm(), ""), ValueError, "text"),
    # training
    ("stream_batches 2-D tokens", lambda: training.stream_batches(TOKENS.view(2, -1), 2, 8), ValueError, "tokens"),
    ("stream_batches float tokens", lambda: training.stream_batches(TOKENS.float(), 2, 8), ValueError, "tokens"),
    ("stream_batches a list", lambda: training.stream_batches([1, 2, 3], 1, 1), ValueError, "tokens"),
    ("stream_batches batch_size 0", lambda: training.stream_batches(TOKENS, 0, 8), ValueError, "batch_size"),
    ("stream_batches seq_len 0", lambda: training.stream_batches(TOKENS, 2, 0), ValueError, "seq_len"),
    ("evaluate_nats seq_len 0", lambda: training.evaluate_nats(tiny_lm(), TOKENS, seq_len=0), ValueError, "seq_len"),
    ("evaluate_nats index beyond vocab", lambda: training.evaluate_nats(tiny_lm(), torch.tensor([1, 200, 3])), ValueError, "tokens"),
    ("evaluate_nats not a model", lambda: training.evaluate_nats("lm", TOKENS), TypeError, "model"),
    ("fit_charlm num_epochs 0", lambda: training.fit_charlm(tiny_lm(), TOKENS, TOKENS, num_epochs=0, batch_size=4, seq_len=8),
     ValueError, "num_epochs"),
    ("fit_charlm max_norm 0", lambda: training.fit_charlm(tiny_lm(), TOKENS, TOKENS, num_epochs=1, batch_size=4, seq_len=8,
                                                           max_norm=0), ValueError, "max_norm"),
    ("fit_charlm one-character val", lambda: training.fit_charlm(tiny_lm(), TOKENS, TOKENS[:1], num_epochs=1, batch_size=4,
                                                                  seq_len=8), ValueError, "tokens"),
    # longrange
    ("adding_mse length 1", lambda: longrange.adding_mse(ADDER, 1), ValueError, "length"),
    ("adding_mse num_sequences 0", lambda: longrange.adding_mse(ADDER, 10, num_sequences=0), ValueError, "num_sequences"),
    ("fit_adding num_steps 0", lambda: longrange.fit_adding(ADDER, 10, 0), ValueError, "num_steps"),
    ("fit_adding eval_every 0", lambda: longrange.fit_adding(ADDER, 10, 5, eval_every=0), ValueError, "eval_every"),
    ("fit_adding target_mse str", lambda: longrange.fit_adding(ADDER, 10, 5, target_mse="low"), ValueError, "target_mse"),
    ("fit_adding max_norm -1", lambda: longrange.fit_adding(ADDER, 10, 5, max_norm=-1.0), ValueError, "max_norm"),
    ("fit_recall distance 0", lambda: longrange.fit_recall(ADDER, 0, 5), ValueError, "distance"),
    ("adding_models an int", lambda: longrange.adding_models(50), ValueError, "lengths"),
    ("adding_models length 1", lambda: longrange.adding_models((1,)), ValueError, "lengths"),
    ("fit_adding_all lengths mismatch", lambda: longrange.fit_adding_all(longrange.adding_models((20,)), 1, (40,)),
     ValueError, "lengths"),
    ("fit_adding_all a dict", lambda: longrange.fit_adding_all({"lstm_t20": ADDER}, 1, (20,)), TypeError, "nets"),
    # training.bptt_step (§6): checked per call in microseconds, so a bad chunk fails with its name, not deep in torch
    ("bptt_step not a model", lambda: training.bptt_step("lm", *chunk(), None, sgd()), TypeError, "model"),
    ("bptt_step float X", lambda: training.bptt_step(tiny_lm(), chunk()[0].float(), chunk()[1], None, sgd()), ValueError, "X"),
    ("bptt_step 1-D X", lambda: training.bptt_step(tiny_lm(), chunk()[0][0], chunk()[1][0], None, sgd()), ValueError, "X"),
    ("bptt_step empty X", lambda: training.bptt_step(tiny_lm(), chunk()[0][:0], chunk()[1][:0], None, sgd()), ValueError, "X"),
    ("bptt_step Y shorter", lambda: training.bptt_step(tiny_lm(), chunk()[0], chunk()[1][:, :3], None, sgd()), ValueError, "Y"),
    ("bptt_step float Y", lambda: training.bptt_step(tiny_lm(), chunk()[0], chunk()[1].float(), None, sgd()), ValueError, "Y"),
    ("bptt_step X beyond vocab", lambda: training.bptt_step(tiny_lm(), chunk()[0] + 500, chunk()[1], None, sgd()), ValueError, "X"),
    ("bptt_step Y beyond vocab", lambda: training.bptt_step(tiny_lm(), chunk()[0], chunk()[1] + 500, None, sgd()), ValueError, "Y"),
    ("bptt_step no optimizer", lambda: training.bptt_step(tiny_lm(), *chunk(), None, None), TypeError, "optimizer"),
    ("bptt_step max_norm -1", lambda: training.bptt_step(tiny_lm(), *chunk(), None, sgd(), max_norm=-1.0), ValueError, "max_norm"),
    ("bptt_step max_norm 0", lambda: training.bptt_step(tiny_lm(), *chunk(), None, sgd(), max_norm=0), ValueError, "max_norm"),
    ("bptt_step max_norm nan", lambda: training.bptt_step(tiny_lm(), *chunk(), None, sgd(), max_norm=float("nan")),
     ValueError, "max_norm"),
    # training.budget_lr and fit_charlm's other settings
    ("budget_lr fraction True", lambda: training.budget_lr(True), ValueError, "fraction"),
    ("budget_lr fraction tensor", lambda: training.budget_lr(torch.tensor(0.5)), ValueError, "fraction"),
    ("budget_lr warmup 1", lambda: training.budget_lr(0.5, warmup=1), ValueError, "warmup"),
    ("fit_charlm log True", lambda: fit(log=True), TypeError, "log"),
    ("fit_charlm lr 0", lambda: fit(lr=0), ValueError, "lr"),
    ("fit_charlm lr inf", lambda: fit(lr=float("inf")), ValueError, "lr"),
    ("fit_charlm weight_decay -1", lambda: fit(weight_decay=-1.0), ValueError, "weight_decay"),
    ("fit_charlm seed str", lambda: fit(seed="0"), ValueError, "seed"),
    ("fit_charlm max_norm True", lambda: fit(max_norm=True), ValueError, "max_norm"),
    ("fit_charlm train_tokens beyond vocab", lambda: fit(train_tokens=TOKENS + 500), ValueError, "train_tokens"),
    # longrange.recall_model
    ("recall_model a list", lambda: longrange.recall_model(["lstm"]), ValueError, "variant"),
    # views
    ("temperature_view no temperatures", lambda: views.temperature_view(tiny_lm(), "a", []), ValueError, "temperatures"),
    ("temperature_view nan temperature", lambda: views.temperature_view(tiny_lm(), "a", [float("nan")]), ValueError,
     "temperatures"),
    ("temperature_view one number", lambda: views.temperature_view(tiny_lm(), "a", 1.0), TypeError, "temperatures"),
    ("temperature_view empty seed_text", lambda: views.temperature_view(tiny_lm(), "", [1.0]), ValueError, "seed_text"),
    ("temperature_view num_chars 0", lambda: views.temperature_view(tiny_lm(), "a", [1.0], num_chars=0), ValueError,
     "num_chars"),
    ("samples_figure empty", lambda: views.samples_figure({}, "x"), ValueError, "samples"),
    ("gate_panel unknown gate", lambda: views.gate_panel(gates(), TEXT, "remember", 0), ValueError, "gate"),
    ("gate_panel unit 99", lambda: views.gate_panel(gates(), TEXT, "forget", 99), ValueError, "unit"),
    ("gate_panel unit -1", lambda: views.gate_panel(gates(), TEXT, "forget", -1), ValueError, "unit"),
    ("gate_panel text too short", lambda: views.gate_panel(gates(), TEXT[:-1], "forget", 0), ValueError, "text"),
    ("gate_panel window 0", lambda: views.gate_panel(gates(), TEXT, "forget", 0, window=0), ValueError, "window"),
    ("gate_panel no gates", lambda: views.gate_panel({}, TEXT, "forget", 0), ValueError, "gates"),
    ("gate_view unit float", lambda: views.gate_view(gates(), TEXT, "forget", 2.5), ValueError, "unit"),
]


@pytest.mark.parametrize("call, error, name", [c[1:] for c in CASES], ids=[c[0] for c in CASES])
def test_bad_input_is_refused_naming_the_argument(call, error, name):
    with pytest.raises(error) as raised:
        call()
    assert name in str(raised.value), f"the message does not name {name!r}: {raised.value}"


def test_the_table_is_large_enough():
    assert len(CASES) >= 30 and len({c[0] for c in CASES}) == len(CASES)
