"""Vendor the site's browser code from the npm registry (``npm pack``), so no page loads anything from a CDN.

    python site/vendor.py --output build/site-vendor

Fetches three pinned packages with ``npm pack`` (the registry's ordinary client) and copies what a page needs:
``@jupyter-widgets/html-manager`` (renders the embedded widget state: the ipywidgets 8 controls, their CSS and
the Font Awesome fonts the buttons use), ``requirejs`` (the AMD loader the html-manager's embed script expects)
and ``mathjax`` 3 (the math renderer, with its fonts and TeX extensions). Re-running with the same pins reuses the
folder. Standard library only.
"""

from __future__ import annotations

import argparse
import json
import shutil
import subprocess
import tarfile
import tempfile
from pathlib import Path

# The html-manager's major version must match the ipywidgets the site is built with (1.x <-> ipywidgets 8.x).
PACKAGES = {"@jupyter-widgets/html-manager": "1.0.15", "requirejs": "2.3.8", "mathjax": "3.2.2"}
# What a page loads, relative to the vendor folder (site/conf.py points Sphinx and MyST-NB at these).
REQUIRE_JS = "require.js"
EMBED_JS = "html-manager/embed-amd.js"
MATHJAX_JS = "mathjax/tex-chtml.js"


def _pack(name: str, version: str, into: Path) -> Path:
    out = subprocess.run(["npm", "pack", f"{name}@{version}", "--json", "--silent"], cwd=into, check=True,
                         capture_output=True, text=True, timeout=600).stdout
    return into / json.loads(out)[0]["filename"]


def vendor(output: Path) -> Path:
    """Fill ``output`` with the pinned browser code; returns ``output``. Skips the work when it is up to date."""
    stamp = output / "VENDORED.json"
    if stamp.is_file() and json.loads(stamp.read_text()) == PACKAGES:
        return output
    if shutil.which("npm") is None:
        raise RuntimeError("npm is needed to vendor the site's scripts (apt-get install npm).")
    shutil.rmtree(output, ignore_errors=True)
    output.mkdir(parents=True)
    with tempfile.TemporaryDirectory() as tmp:
        tmp = Path(tmp)
        unpacked = {}
        for name, version in PACKAGES.items():
            tgz = _pack(name, version, tmp)
            dest = tmp / name.replace("/", "__")
            with tarfile.open(tgz) as tar:
                tar.extractall(dest, filter="data")
            unpacked[name] = dest / "package"
        dist = unpacked["@jupyter-widgets/html-manager"] / "dist"
        shutil.copytree(dist, output / "html-manager", ignore=shutil.ignore_patterns("*.map", "embed.js*"))
        shutil.copy(unpacked["requirejs"] / "require.js", output / REQUIRE_JS)
        shutil.copytree(unpacked["mathjax"] / "es5", output / "mathjax", ignore=shutil.ignore_patterns("*.map"))
        for name in PACKAGES:  # keep each package's licence beside its code
            for lic in unpacked[name].glob("LICENSE*"):
                shutil.copy(lic, output / f"LICENSE.{name.replace('/', '__').lstrip('@')}")
    stamp.write_text(json.dumps(PACKAGES))
    return output


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--output", type=Path, default=Path("build/site-vendor"))
    args = parser.parse_args(argv)
    out = vendor(args.output)
    print(f"vendored {', '.join(f'{k}@{v}' for k, v in PACKAGES.items())} into {out}")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
