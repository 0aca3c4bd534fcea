"""Train the course's checkpoints from scratch and write them with their checksums.

    python scripts/make_checkpoints.py            # list what can be made
    python scripts/make_checkpoints.py all        # make every checkpoint
    python scripts/make_checkpoints.py dcgan ...  # make the named ones

Each checkpoint is declared by a course_utils module in its ``CHECKPOINTS`` dict (see
course_utils/pretrained.py) and lands in course_utils/_checkpoints/<name>.pt (+ .sha256), so it ships
with the package (Colab included). Runs in full mode whatever COURSE_SMOKE says; seeded, so a rerun
gives the same weights on the same machine and library versions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.pop("COURSE_SMOKE", None)  # checkpoints are always full-size

from course_utils import checkpoints, pretrained  # noqa: E402


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="checkpoint names, or 'all'")
    parser.add_argument("--folder", default=None, help="write here instead of course_utils/_checkpoints")
    args = parser.parse_args(argv)
    known = pretrained.registry()
    if not args.names:
        for name, fn in sorted(known.items()):
            state = "present" if pretrained.has_checkpoint(name, args.folder) else "missing"
            print(f"{name:24s} {state:8s} {fn.__module__}.{fn.__name__}")
        return 0
    names = sorted(known) if args.names == ["all"] else args.names
    unknown = [n for n in names if n not in known]
    if unknown:
        parser.error(f"unknown checkpoint(s) {unknown}; choose from {sorted(known)}")
    for name in names:
        start = time.perf_counter()
        model, meta = known[name]()
        seconds = time.perf_counter() - start
        path = pretrained.checkpoint_path(name, args.folder)
        digest = checkpoints.save_checkpoint(model, path, train_seconds=round(seconds, 1), **meta)
        size = path.stat().st_size
        print(f"{name}: {size / 1e6:.2f} MB, sha256 {digest[:12]}…, trained in {seconds:.0f} s -> {path}")
        if size > pretrained.MAX_BYTES:
            print(f"{name} is larger than {pretrained.MAX_BYTES / 1e6:.0f} MB; make the model smaller.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
