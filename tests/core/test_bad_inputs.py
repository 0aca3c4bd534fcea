"""Bad input to the shared plumbing is refused with one clear sentence that names the offending argument.

Each case: a call that must fail, the exception type it must raise, and a word the message must contain (the
argument's name). ``python tests/core/test_bad_inputs.py`` prints how each case fares (clear / obscure / silent)
against whatever ``course_utils`` is importable, which is how the before/after counts in the issue were made.
"""

from __future__ import annotations

import math
import sys

import pytest
import torch
import torch.nn as nn
from matplotlib.figure import Figure


def _cases():
    import ipywidgets

    from course_utils import augment, batches, checkpoints, data, plotting, results, runtime, train, widgets

    X, y = torch.rand(8, 1, 28, 28), torch.randint(0, 10, (8,))
    model = nn.Linear(3, 1)
    fig, _ = plotting.new_figure()
    loader = batches.Batches(torch.zeros(8, 3), torch.zeros(8, 1), batch_size=4)
    opt = torch.optim.SGD(model.parameters(), lr=0.1)

    def mse(m, b, o=None):
        return {"loss": nn.functional.mse_loss(m(b[0]), b[1]).item()}

    return [
        # runtime
        ("get_device unknown", lambda: runtime.get_device("tpu"), ValueError, "prefer"),
        ("seed negative", lambda: runtime.seed_everything(-1), ValueError, "seed"),
        ("seed float", lambda: runtime.seed_everything(1.5), ValueError, "seed"),
        ("seed str", lambda: runtime.seed_everything("0"), ValueError, "seed"),
        ("Config not a pair", lambda: runtime.Config(num_epochs=10), ValueError, "num_epochs"),
        ("Config triple", lambda: runtime.Config(num_epochs=(1, 2, 3)), ValueError, "num_epochs"),
        ("Config smoke str", lambda: runtime.Config(smoke="false", a=(1, 2)), TypeError, "smoke"),
        ("Config unknown setting", lambda: runtime.Config(a=(1, 2)).b, AttributeError, "'b'"),
        ("check_version not a version", lambda: runtime.check_version("latest"), ValueError, "expected"),
        ("check_version int", lambda: runtime.check_version(3), ValueError, "expected"),
        ("flag unknown name", lambda: runtime.flag("COURSE_FAST"), ValueError, "name"),
        ("flag default not a bool", lambda: runtime.flag("COURSE_SMOKE", default="yes"), TypeError, "default"),
        # data
        ("load_dataset unknown", lambda: data.load_dataset("svhn"), ValueError, "svhn"),
        ("load_dataset n_train zero", lambda: data.load_fashion_mnist(n_train=0), ValueError, "n_train"),
        ("load_dataset n_train float", lambda: data.load_fashion_mnist(n_train=2.5), ValueError, "n_train"),
        ("load_dataset n_train bool", lambda: data.load_fashion_mnist(n_train=True), ValueError, "n_train"),
        ("load_dataset n_test too many", lambda: data.load_fashion_mnist(n_test=10**7), ValueError, "n_test"),
        ("load_dataset seed negative", lambda: data.load_fashion_mnist(seed=-3), ValueError, "seed"),
        ("load_dataset download str", lambda: data.load_fashion_mnist(download="no"), TypeError, "download"),
        ("load_dataset root int", lambda: data.load_fashion_mnist(root=5), TypeError, "root"),
        ("read_idx missing", lambda: data.read_idx("/nonexistent/file-idx3-ubyte"), FileNotFoundError, "nonexistent"),
        # batches
        ("Batches nothing", lambda: batches.Batches(), ValueError, "at least one tensor"),
        ("Batches list", lambda: batches.Batches([1, 2, 3]), TypeError, "tensors"),
        ("Batches lengths", lambda: batches.Batches(X, y[:5]), ValueError, "first dimension"),
        ("Batches batch_size 0", lambda: batches.Batches(X, batch_size=0), ValueError, "batch_size"),
        ("Batches batch_size float", lambda: batches.Batches(X, batch_size=2.0), ValueError, "batch_size"),
        ("Batches drop_last empty", lambda: batches.Batches(X, batch_size=100, drop_last=True), ValueError, "drop_last"),
        ("FreshBatches not callable", lambda: batches.FreshBatches(3, 10), TypeError, "make_batch"),
        ("FreshBatches zero", lambda: batches.FreshBatches(lambda g: (X,), 0), ValueError, "num_batches"),
        ("FreshBatches seed", lambda: batches.FreshBatches(lambda g: (X,), 2, seed=-1), ValueError, "seed"),
        # augment
        ("random_flip 3-D", lambda: augment.random_flip(torch.zeros(2, 28, 28)), ValueError, "x must be"),
        ("random_flip list", lambda: augment.random_flip([[0.0]]), TypeError, "x must be"),
        ("random_flip p", lambda: augment.random_flip(X, p=2), ValueError, "p must be"),
        ("random_shift negative", lambda: augment.random_shift(X, max_shift=-1), ValueError, "max_shift"),
        ("random_shift float", lambda: augment.random_shift(X, max_shift=1.5), ValueError, "max_shift"),
        ("random_erase size 0", lambda: augment.random_erase(X, size=0), ValueError, "size"),
        ("random_erase size big", lambda: augment.random_erase(X, size=29), ValueError, "size"),
        ("random_erase p", lambda: augment.random_erase(X, p=-0.1), ValueError, "p must be"),
        # train
        ("fit no optimizer", lambda: train.fit(model, loader, num_epochs=1, optimizer=None, step=mse), ValueError, "optimizer"),
        ("fit num_epochs 0", lambda: train.fit(model, loader, num_epochs=0, optimizer=opt, step=mse), ValueError, "num_epochs"),
        ("fit num_epochs float", lambda: train.fit(model, loader, num_epochs=1.0, optimizer=opt, step=mse), ValueError, "num_epochs"),
        ("fit num_epochs bool", lambda: train.fit(model, loader, num_epochs=True, optimizer=opt, step=mse), ValueError, "num_epochs"),
        ("fit mode", lambda: train.fit(model, loader, num_epochs=1, optimizer=opt, step=mse, mode="best"), ValueError, "mode"),
        ("fit monitor name", lambda: train.fit(model, loader, num_epochs=1, optimizer=opt, step=mse, monitor="loss"), ValueError, "monitor"),
        ("fit monitor unknown", lambda: train.fit(model, loader, num_epochs=1, optimizer=opt, step=mse, val_loader=loader,
                                                  monitor="val_acc", verbose=False), ValueError, "monitor"),
        ("fit val monitor without val", lambda: train.fit(model, loader, num_epochs=1, optimizer=opt, step=mse,
                                                          monitor="val_loss"), ValueError, "val_loader"),
        ("fit not a model", lambda: train.fit("model", loader, num_epochs=1, optimizer=opt), TypeError, "nn.Module"),
        ("fit empty val", lambda: train.fit(model, loader, num_epochs=1, optimizer=opt, step=mse, val_loader=[]), ValueError, "val_loader"),
        ("evaluate empty", lambda: train.evaluate(model, [], mse), ValueError, "empty"),
        ("predict list", lambda: train.predict(model, [[1.0, 2.0, 3.0]]), TypeError, "tensor X"),
        ("predict method", lambda: train.predict(model, torch.zeros(2, 3), method="encode"), AttributeError, "encode"),
        ("predict batch_size", lambda: train.predict(model, torch.zeros(2, 3), batch_size=0), ValueError, "batch_size"),
        ("predict empty", lambda: train.predict(model, torch.zeros(0, 3)), ValueError, "empty"),
        ("classification_step max_norm", lambda: train.classification_step(max_norm=-1), ValueError, "max_norm"),
        ("TimeBudget zero", lambda: train.TimeBudget(0), ValueError, "seconds"),
        ("TimeBudget str", lambda: train.TimeBudget("60"), ValueError, "seconds"),
        # plotting
        ("image_row 2-D", lambda: plotting.image_row(torch.rand(28, 28)), ValueError, "images"),
        ("image_row 4 channels", lambda: plotting.image_row(torch.rand(2, 4, 8, 8)), ValueError, "images"),
        ("plot_history empty", lambda: plotting.plot_history(train.History()), ValueError, "history"),
        ("plot_history not a mapping", lambda: plotting.plot_history([1.0, 2.0]), ValueError, "history"),
        ("plot_history ragged", lambda: plotting.plot_history({"a_loss": [1.0], "b_loss": [1.0, 2.0]}), ValueError, "length"),
        ("plot_history unknown key", lambda: plotting.plot_history({"train_loss": [1.0]}, keys=["val_loss"]), KeyError, "val_loss"),
        ("feature maps 2-D", lambda: plotting.plot_feature_maps(torch.rand(7, 7)), ValueError, "maps"),
        ("filters 3-D", lambda: plotting.plot_filters(torch.rand(8, 3, 3)), ValueError, "weight"),
        ("confusion lengths", lambda: plotting.plot_confusion_matrix([0, 1], [0], ["a", "b"]), ValueError, "y_true"),
        ("confusion label outside", lambda: plotting.plot_confusion_matrix([0, 5], [0, 1], ["a", "b"]), ValueError, "y_true"),
        # widgets
        ("figure_png not a figure", lambda: widgets.figure_png("fig"), TypeError, "Figure"),
        ("figure_png dpi 0", lambda: widgets.figure_png(Figure(), dpi=0), ValueError, "dpi"),
        ("figure_png dpi str", lambda: widgets.figure_png(Figure(), dpi="80"), ValueError, "dpi"),
        ("controls_view no controls", lambda: widgets.controls_view({}, fig, lambda: None), ValueError, "controls"),
        ("controls_view precompute text", lambda: widgets.controls_view({"t": ipywidgets.Text()}, fig, lambda t: None,
                                                                        precompute=True), ValueError, "precompute"),
        ("frame_browser no frames", lambda: widgets.frame_browser([]), ValueError, "frame"),
        ("frame_browser captions", lambda: widgets.frame_browser([b"a", b"b"], captions=["x"]), ValueError, "captions"),
        ("render_frames zero", lambda: widgets.render_frames(fig, lambda i: None, 0), ValueError, "n"),
        ("show_source builtin", lambda: widgets.show_source(len), TypeError, "show_source"),
        # checkpoints
        ("save not a model", lambda: checkpoints.save_checkpoint("m", "/tmp/x.pt"), TypeError, "nn.Module"),
        ("save numpy meta", lambda: checkpoints.save_checkpoint(model, "/tmp/course_bad_meta.pt", acc=__import__("numpy").float32(1)),
         TypeError, "acc"),
        ("save Path meta", lambda: checkpoints.save_checkpoint(model, "/tmp/course_bad_meta.pt", where=__import__("pathlib").Path(".")),
         TypeError, "where"),
        ("load missing", lambda: checkpoints.load_checkpoint(model, "/nonexistent.pt"), checkpoints.CheckpointError, "nonexistent"),
        ("load cuda on cpu", lambda: _load_with(checkpoints, model, map_location="cuda"), ValueError, "map_location"),
        ("load bad sha", lambda: _load_with(checkpoints, model, sha256="abc"), ValueError, "sha256"),
        ("checkpoint_path slash", lambda: checkpoints.checkpoint_path("a/b"), ValueError, "name"),
        ("checkpoint_path .pt", lambda: checkpoints.checkpoint_path("a.pt"), ValueError, "name"),
        ("checkpoint_path empty", lambda: checkpoints.checkpoint_path(""), ValueError, "name"),
        ("load_or_train not a model", lambda: checkpoints.load_or_train("m", "x", lambda m: None), TypeError, "nn.Module"),
        ("load_or_train train_fn", lambda: checkpoints.load_or_train(model, "x", None), TypeError, "train_fn"),
        ("load_or_train use_checkpoint", lambda: checkpoints.load_or_train(model, "x", lambda m: None,
                                                                          use_checkpoint="no"), TypeError, "use_checkpoint"),
        # results
        ("record bad key", lambda: results.record("Bad Key", 1.0), ValueError, "key"),
        ("record NaN", lambda: results.record("a_key", math.nan), ValueError, "a_key"),
        ("record empty dict", lambda: results.record("a_key", {}), ValueError, "empty"),
        ("record string", lambda: results.record("a_key", "0.9"), ValueError, "a_key"),
    ]


def _load_with(checkpoints, model, **kwargs):
    import tempfile
    from pathlib import Path

    path = Path(tempfile.mkdtemp()) / "m.pt"
    checkpoints.save_checkpoint(model, path)
    return checkpoints.load_checkpoint(model, path, **kwargs)




CASES = _cases()


@pytest.mark.parametrize("name,call,exc,word", CASES, ids=[c[0] for c in CASES])
def test_bad_input_is_refused_clearly(name, call, exc, word, monkeypatch):
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    with pytest.raises(exc) as info:
        call()
    message = str(info.value)
    assert word in message, f"{name}: the message does not name {word!r}: {message}"
    assert message.count("\n") == 0 and len(message) < 400, f"{name}: not one clear sentence: {message}"


def classify(case) -> str:
    """'clear' (right type, names the argument), 'obscure' (another error or no name) or 'silent' (no error)."""
    name, call, exc, word = case
    try:
        call()
    except exc as err:
        return "clear" if word in str(err) else "obscure"
    except Exception:  # noqa: BLE001
        return "obscure"
    return "silent"


if __name__ == "__main__":
    import os
    from collections import Counter

    os.environ["COURSE_OFFLINE"] = "1"
    outcomes = Counter()
    for case in _cases():
        try:
            outcome = classify(case)
        except Exception:  # noqa: BLE001
            outcome = "obscure"
        outcomes[outcome] += 1
        if outcome != "clear":
            print(f"{outcome:8s} {case[0]}")
    print(dict(outcomes), "of", sum(outcomes.values()), file=sys.stderr)
