"""Chapter 01's model target: Fashion-MNIST test accuracy of the chapter's CNN recipe in at most three minutes.

Trains the notebook's model (``models.FashionCNN``) with the notebook's recipe (``recipe.train_classifier``, the
same epochs, learning rate, batch size and augmentation as the full-mode configuration of notebooks/01_cnn.py) for
three seeds on the full data, and writes ``benchmarks/results/target_cnn.json``. Run it under the CPU lock:

    flock /tmp/torch.lock .venv/bin/python benchmarks/target_cnn.py
"""

from __future__ import annotations

import argparse
import datetime
import json
import statistics
import sys
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

# The notebook's full-mode settings (notebooks/01_cnn.py, the configuration cell).
EPOCHS, LR, BATCH_SIZE = 9, 0.2, 256
CHANNELS = (32, 64, 256)
TARGET_ACCURACY, TARGET_SECONDS = 0.930, 180.0


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seeds", type=int, nargs="+", default=[0, 1, 2], help="seeds to train (default 0 1 2)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "target_cnn.json")
    args = parser.parse_args(argv)

    import torch
    from run import _machine_label, machine

    from course_utils import augment, data, runtime, train
    from course_utils.cnn import models, recipe

    ds = data.load_fashion_mnist()
    if len(ds.X_train) != 60000:
        raise SystemExit(f"needs the full Fashion-MNIST (60,000 training images), found {len(ds.X_train)}: {ds.source}")
    rows, accuracies, seconds = [], [], []
    for seed in args.seeds:
        runtime.seed_everything(seed)
        model = models.FashionCNN(channels=CHANNELS)
        history = recipe.train_classifier(model, ds.X_train, ds.y_train, ds.X_test, ds.y_test, num_epochs=EPOCHS, lr=LR,
                                          batch_size=BATCH_SIZE, device="cpu", transform=augment.random_flip, verbose=False)
        logits = train.predict(model, ds.X_test.contiguous(memory_format=torch.channels_last))
        acc = (logits.argmax(1) == ds.y_test).float().mean().item()
        secs = sum(history["seconds"])
        accuracies.append(acc)
        seconds.append(secs)
        rows.append([str(seed), f"{acc:.2%}".replace("%", " %"), f"{secs:.0f}"])
        print(f"seed {seed}: test accuracy {acc:.2%}, {secs:.0f} s of training", flush=True)
    mean = statistics.mean(accuracies)
    spread = statistics.stdev(accuracies) if len(accuracies) > 1 else 0.0
    met_acc, met_time = mean >= TARGET_ACCURACY, max(seconds) <= TARGET_SECONDS
    result = {
        "title": "Chapter 01: CNN test accuracy in three minutes",
        "command": "python benchmarks/target_cnn.py",
        "date": datetime.datetime.now(datetime.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine_label(machine()),
        "table": {"columns": ["seed", "test accuracy", "training s"], "rows": rows},
        "targets": [
            {"what": f"mean test accuracy over {len(accuracies)} seeds", "measured": f"{mean:.2%} ± {spread * 100:.2f}".replace("%", " %"),
             "target": ">= 93.0 %", "met": met_acc},
            {"what": "training seconds (slowest seed)", "measured": f"{max(seconds):.0f} s", "target": "<= 180 s", "met": met_time},
        ],
        "notes": (f"FashionCNN {'-'.join(map(str, CHANNELS))} ({train.count_parameters(model):,} parameters), {EPOCHS} epochs of SGD with Nesterov momentum, one-cycle "
                  f"learning rate peaking at {LR}, label smoothing 0.1, weight decay 5e-4, random flips, batch {BATCH_SIZE}, "
                  "channels-last and bfloat16 autocast where the CPU supports it (recipe.train_classifier, as in "
                  "notebooks/01_cnn.py); the spread is the standard deviation over seeds. "
                  + ("" if met_acc and met_time else
                     "A miss: the spread over seeds is about as large as the gap; the README's misses block says "
                     "what else was measured.")),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1, ensure_ascii=False) + "\n")
    print(json.dumps(result["targets"], ensure_ascii=False))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
