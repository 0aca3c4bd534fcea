"""Epoch time of the same model fed by the course's in-memory batches vs a torchvision DataLoader.

    python benchmarks/data_path.py [--repeats 3] [--n-train 60000]

The DataLoader is the usual tutorial pipeline: ``FashionMNIST(..., transform=ToTensor())`` read item
by item (PIL image -> tensor) with ``num_workers=0``. ``course_utils.batches.Batches`` indexes
one in-memory tensor. Both train the same model with the same optimizer and batch size for one
epoch; the script prints the median seconds of each and their ratio (in-memory / DataLoader) for the
chapter-01 MLP and CNN, and writes benchmarks/results/data_path.json.
"""

import argparse
import json
import platform
import statistics
import time
from pathlib import Path

import torch
import torch.nn.functional as F
import torchvision
from torch.utils.data import DataLoader, Subset
from torchvision.transforms import ToTensor

from course_utils import batches, cnn, data


def one_epoch(model, loader) -> float:
    optimizer = torch.optim.SGD(model.parameters(), lr=0.01, momentum=0.9)
    model.train()
    start = time.perf_counter()
    for X, y in loader:
        loss = F.cross_entropy(model(X), y)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
    return time.perf_counter() - start


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
    results = {}
    for name, make in [("MLP", cnn.models.MLP), ("CNN", cnn.models.FashionCNN)]:
        times = {"in-memory Batches": [], "DataLoader + ToTensor": []}
        for r in range(args.repeats):
            torch.manual_seed(r)
            times["in-memory Batches"].append(one_epoch(make(), batches.Batches(X, y, batch_size=args.batch_size, shuffle=True)))
            torch.manual_seed(r)
            times["DataLoader + ToTensor"].append(one_epoch(make(), DataLoader(tv, batch_size=args.batch_size, shuffle=True)))
        med = {k: statistics.median(v) for k, v in times.items()}
        ratio = med["in-memory Batches"] / med["DataLoader + ToTensor"]
        results[name] = {"median_seconds": med, "all_seconds": times, "ratio": ratio}
        print(f"{name}: in-memory {med['in-memory Batches']:.2f} s, DataLoader {med['DataLoader + ToTensor']:.2f} s "
              f"per epoch of {args.n_train:,} images -> ratio {ratio:.2f}", flush=True)
    machine = {"cores": torch.get_num_threads(), "torch": torch.__version__, "device": "cpu",
               "cpu": platform.processor() or platform.machine()}
    out = Path(__file__).parent / "results" / "data_path.json"
    out.parent.mkdir(exist_ok=True)
    out.write_text(json.dumps({"machine": machine, "n_train": args.n_train, "batch_size": args.batch_size,
                               "results": results}, indent=2))
    print(f"wrote {out}")


if __name__ == "__main__":
    main()
