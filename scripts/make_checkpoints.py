"""Train the course's checkpoints from scratch and write them with their checksums.

    python scripts/make_checkpoints.py            # list what can be made
    python scripts/make_checkpoints.py all        # make every checkpoint
    python scripts/make_checkpoints.py dcgan ...  # make the named ones

Each checkpoint is listed in ``course_utils.checkpoints.REGISTRY`` (module that makes it, expected SHA-256;
the module's ``CHECKPOINTS`` dict holds the maker) and lands in course_utils/_checkpoints/<name>.pt (+ .sha256), so it ships
with the package (Colab included). Runs in full mode whatever COURSE_SMOKE says; seeded, so a rerun
gives the same weights on the same machine and library versions.
"""

from __future__ import annotations

import argparse
import os
import sys
import time

os.environ.pop("COURSE_SMOKE", None)  # checkpoints are always full-size

from course_utils import checkpoints


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("names", nargs="*", help="checkpoint names, or 'all'")
    parser.add_argument("--folder", default=None, help="write here instead of course_utils/_checkpoints")
    args = parser.parse_args(argv)
    known = checkpoints.registry()
    if not args.names:
        for name, fn in sorted(known.items()):
            state = "present" if checkpoints.has_checkpoint(name, args.folder) else "missing"
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
        path = checkpoints.checkpoint_path(name, args.folder)
        digest = checkpoints.save_checkpoint(model, path, train_seconds=round(seconds, 1), **meta)
        size = path.stat().st_size
        print(f"{name}: {size / 1e6:.2f} MB, sha256 {digest[:12]}…, trained in {seconds:.0f} s -> {path}")
        shipped = checkpoints.REGISTRY.get(name)
        if args.folder is None and shipped is not None and shipped.sha256 != digest:
            print(f"{name}: the file changed; set its digest in course_utils/checkpoints.py REGISTRY to {digest}",
                  file=sys.stderr)
        if size > checkpoints.MAX_BYTES:
            print(f"{name} is larger than {checkpoints.MAX_BYTES / 1e6:.0f} MB; make the model smaller.", file=sys.stderr)
            return 1
    return 0


if __name__ == "__main__":
    sys.exit(main())
