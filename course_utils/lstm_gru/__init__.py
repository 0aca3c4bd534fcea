"""Chapter 03, LSTM and GRU (``notebooks/03_lstm_gru``): ``models`` (LSTMCell, LastStepModel, CharLM, parameter counts),
``longrange`` (the RNN/LSTM/GRU recall and adding experiments through ``train.fit``), ``charlm`` (corpus, alphabet,
sampling, gate recording), ``training`` (truncated BPTT, the lesson's own loop), ``views`` (widgets + twins), ``checks``."""

from . import charlm, checks, longrange, models, training, views

__all__ = ["charlm", "checks", "longrange", "models", "training", "views"]
