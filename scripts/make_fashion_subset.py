"""Make the small real Fashion-MNIST subset shipped inside course_utils.

    python scripts/make_fashion_subset.py [--source /usr/share/datasets/fashion-mnist]

Takes a class-balanced, seeded random choice of 400 training and 100 test images per class
from the full data (IDX .gz files, e.g. Debian's dataset-fashion-mnist package) and writes them,
in the same IDX format, to course_utils/_data/fashion_mnist_subset/. Fashion-MNIST is
Copyright 2017 Zalando SE, MIT licence (see LICENSE in that folder).
"""

import argparse
from pathlib import Path

import numpy as np

from course_utils.data import BUNDLED_DIR, IDX_FILES, SYSTEM_FASHION_DIR, read_idx, write_idx

PER_CLASS = {"train": 400, "test": 100}


def balanced_choice(labels: np.ndarray, per_class: int, rng: np.random.Generator) -> np.ndarray:
    picks = [rng.choice(np.flatnonzero(labels == c), per_class, replace=False) for c in range(10)]
    return np.sort(np.concatenate(picks))


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--source", type=Path, default=SYSTEM_FASHION_DIR)
    parser.add_argument("--out", type=Path, default=BUNDLED_DIR)
    parser.add_argument("--seed", type=int, default=2017)
    args = parser.parse_args()
    rng = np.random.default_rng(args.seed)
    args.out.mkdir(parents=True, exist_ok=True)
    for split in ("train", "test"):
        images = read_idx(args.source / (IDX_FILES[f"{split}_images"] + ".gz"))
        labels = read_idx(args.source / (IDX_FILES[f"{split}_labels"] + ".gz"))
        idx = balanced_choice(labels, PER_CLASS[split], rng)
        write_idx(images[idx], args.out / (IDX_FILES[f"{split}_images"] + ".gz"))
        write_idx(labels[idx], args.out / (IDX_FILES[f"{split}_labels"] + ".gz"))
        print(f"{split}: {len(idx)} images")
    total = sum(p.stat().st_size for p in args.out.glob("*.gz"))
    print(f"wrote {args.out} ({total / 1e6:.2f} MB)")


if __name__ == "__main__":
    main()
