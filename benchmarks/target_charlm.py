"""Chapter 03's model target: the character LSTM's validation loss after at most three minutes of training.

Trains the chapter's model (``models.CharLM`` with ``charlm.CHARLM_CONFIG``'s sizes, dropout, batch, learning rate
and weight decay) with ``training.fit_charlm``, the function that made the course checkpoint the notebook loads,
but with a time budget of ``TRAIN_SECONDS`` training seconds instead of ``CHARLM_CONFIG["num_epochs"]`` epochs,
on the shipped corpus (CPython 3.11.7 documentation, last 10 % as validation), and writes
``benchmarks/results/target_charlm.json``. Run it alone, under the CPU lock:
``flock /tmp/torch.lock .venv/bin/python benchmarks/target_charlm.py``.
"""

from __future__ import annotations

import argparse
import datetime as dt
import json
import math
import sys
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))
sys.path.insert(0, str(ROOT / "benchmarks"))

TARGET_NATS = 1.20
TARGET_SECONDS = 180
TRAIN_SECONDS = 170  # training seconds (evaluations not counted), within TARGET_SECONDS


MISS_NOTE = (
    "Missed on this machine: three minutes are too few passes over the 404,000 training characters at its throughput. "
    "The course checkpoint (the same model and function, 9 full passes, 268 s when it was made on a 2-core AMD EPYC) "
    "reaches 1.193; a learner on a machine like this one can load it with lm_from_checkpoint=True in chapter 03.")
LIVE_NOTE = "Chapter 03's full mode trains this model live with this budget (cfg.lm_seconds)."


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--seed", type=int, default=0, help="seed of the model and the batches (default 0)")
    parser.add_argument("--out", type=Path, default=ROOT / "benchmarks" / "results" / "target_charlm.json")
    args = parser.parse_args(argv)

    import torch
    from run import _machine_label, machine

    from course_utils.lstm_gru import charlm, models, training

    text, description = charlm.load_corpus("python-docs")
    train_tokens, val_tokens = charlm.split(charlm.encode(text), val_fraction=0.1)
    c = charlm.CHARLM_CONFIG
    torch.manual_seed(args.seed)
    model = models.CharLM(embed_dim=c["embed_dim"], hidden_dim=c["hidden_dim"], dropout=c["dropout"])
    wall = time.perf_counter()
    history = training.fit_charlm(model, train_tokens, val_tokens, seconds=TRAIN_SECONDS, batch_size=c["batch_size"],
                                  seq_len=c["seq_len"], lr=c["lr"], weight_decay=c["weight_decay"], seed=args.seed,
                                  log=print)
    wall = time.perf_counter() - wall
    val = training.evaluate_nats(model, val_tokens)
    trained = history["seconds"][-1]
    met = val <= TARGET_NATS and trained <= TARGET_SECONDS
    result = {
        "title": "Chapter 03: character LSTM validation loss in three minutes",
        "command": "python benchmarks/target_charlm.py",
        "date": dt.datetime.now(dt.UTC).strftime("%Y-%m-%dT%H:%M:%SZ"),
        "machine": _machine_label(machine()),
        "table": {"columns": ["seed", "validation nats/char", "bits/char", "training s", "steps", "wall s"],
                  "rows": [[str(args.seed), f"{val:.3f}", f"{val / math.log(2):.3f}", f"{trained:.0f}",
                            str(history["step"][-1]), f"{wall:.0f}"]]},
        "targets": [{"what": f"validation loss after <= {TARGET_SECONDS} s of training (seed {args.seed})",
                     "measured": f"{val:.3f} nats/char after {trained:.0f} s", "target": f"<= {TARGET_NATS:.2f} nats/char",
                     "met": bool(met)}],
        "notes": (f"{description}. models.CharLM (embedding {c['embed_dim']}, one LSTM layer of {c['hidden_dim']} units, "
                  f"dropout {c['dropout']}) trained by training.fit_charlm with a time budget of {TRAIN_SECONDS} training "
                  f"seconds (evaluations not counted): AdamW (lr {c['lr']:g}, weight decay {c['weight_decay']:g}), batch "
                  f"{c['batch_size']} streams x {c['seq_len']} characters of truncated BPTT, a 5 % warm-up and a cosine to 0 over "
                  "the budget's time; the best evaluated weights are kept. Validation after each pass (the last one partial): "
                  + ", ".join(f"{v:.3f}" for v in history["val_nats"]) + f" nats after {', '.join(f'{s:.0f}' for s in history['seconds'])} s. "
                  + (LIVE_NOTE if met else MISS_NOTE)),
    }
    args.out.parent.mkdir(parents=True, exist_ok=True)
    args.out.write_text(json.dumps(result, indent=1) + "\n")
    target = result["targets"][0]
    print(f"{target['what']}: {target['measured']} (target {target['target']}): {'met' if met else 'missed'}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
