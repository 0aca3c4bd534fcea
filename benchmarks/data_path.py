"""Epoch time of the same model fed by the course's in-memory batches vs a torchvision DataLoader.

    python benchmarks/data_path.py [--repeats 3] [--n-train 60000]

The DataLoader is the usual tutorial pipeline: ``FashionMNIST(..., transform=ToTensor())`` read item
by item (PIL image -> tensor) with ``num_workers=0``. ``course_utils.batches.Batches`` indexes
one in-memory tensor. Both train the same model with the same optimizer and batch size for one
epoch, timed in two parts: *data* (getting the next batch) and *compute* (forward, backward, step).
For the chapter-01 MLP, where loading is most of a DataLoader epoch, it reports the ratio of the
epoch times (in-memory / DataLoader, target <= 0.5); for the CNN, whose epoch is almost all compute,
a ratio says little about the data path, so it reports the epoch split into data time and compute
time for each feed. Medians over the repeats go to benchmarks/results/data_path.json.
"""

import argparse
import importlib.util
import json
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision.transforms import ToTensor

from course_utils import batches, cnn, data

# How each model is reported: the MLP by the ratio of epoch times, the CNN (compute-bound) by its epoch split.
MODELS = [("MLP", cnn.models.MLP, "ratio"), ("CNN", cnn.models.FashionCNN, "split")]
FEEDS = ("in-memory Batches", "DataLoader + ToTensor")


def one_epoch(model, loader) -> dict[str, float]:
    """Seconds of one training epoch spent getting batches ("data") and in forward + backward + step ("compute")."""
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    spent = {"data": 0.0, "compute": 0.0}
    t0 = time.perf_counter()
    batches_left = iter(loader)
    while True:
        try:
            X, y = next(batches_left)
        except StopIteration:
            spent["data"] += time.perf_counter() - t0
            return spent
        t1 = time.perf_counter()
        spent["data"] += t1 - t0
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        t0 = time.perf_counter()
        spent["compute"] += t0 - t1


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeats", type=int, default=3)
    parser.add_argument("--n-train", type=int, default=60000)
    parser.add_argument("--batch-size", type=int, default=256)
    args = parser.parse_args()
    ds = data.load_fashion_mnist()  # makes sure the raw files are in the cache, where torchvision reads them
    if not ds.source.startswith(("cache", "system", "downloaded")):
        raise SystemExit(f"needs the full Fashion-MNIST in the cache for torchvision to read; found: {ds.source}")
    tv = torchvision.datasets.FashionMNIST(str(data.data_dir()), train=True, transform=ToTensor())
    tv = Subset(tv, range(args.n_train))
    X, y = ds.X_train[: args.n_train], ds.y_train[: args.n_train]
    feeds = {"in-memory Batches": lambda: batches.Batches(X, y, batch_size=args.batch_size, shuffle=True),
             "DataLoader + ToTensor": lambda: DataLoader(tv, batch_size=args.batch_size, shuffle=True)}
    results = {}
    for name, make, report in MODELS:
        runs = {feed: [] for feed in FEEDS}
        for r in range(args.repeats):
            for feed in FEEDS:
                torch.manual_seed(r)
                runs[feed].append(one_epoch(make(), feeds[feed]()))
        times = {feed: [run["data"] + run["compute"] for run in runs[feed]] for feed in FEEDS}
        med = {feed: statistics.median(v) for feed, v in times.items()}
        split = {feed: {part: statistics.median(run[part] for run in runs[feed]) for part in ("data", "compute")}
                 for feed in FEEDS}
        ratio = med["in-memory Batches"] / med["DataLoader + ToTensor"]
        results[name] = {"report": report, "median_seconds": med, "all_seconds": times, "ratio": ratio, "split": split,
                         "all_split": runs}
        print(f"{name}: in-memory {med['in-memory Batches']:.2f} s, DataLoader {med['DataLoader + ToTensor']:.2f} s "
              f"per epoch of {args.n_train:,} images -> ratio {ratio:.2f}; data + compute: "
              + ", ".join(f"{feed} {sp['data']:.2f} + {sp['compute']:.2f} s" for feed, sp in split.items()), flush=True)
    spec = importlib.util.spec_from_file_location("benchmarks_run", Path(__file__).with_name("run.py"))
    run = importlib.util.module_from_spec(spec)
    spec.loader.exec_module(run)
    out = Path(__file__).parent / "results" / "data_path.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": run.machine(), "n_train": args.n_train, "batch_size": args.batch_size,
                               "repeats": args.repeats, "results": results}, indent=2) + "\n")
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
