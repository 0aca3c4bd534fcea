"""Is this machine ready for the course? Package versions, course_utils version, device and data.

Introduced for the course index (``notebooks/00_index``). ``check()`` prints one line per item with
what to fix, and returns True when everything the chapters need is in place.

It tells two settings apart by ``"google.colab" in sys.modules`` (Colab's kernel always has it imported):

- **Google Colab.** Colab's own frontend shows the notebooks and widgets, so JupyterLab is not checked. The
  packages are Colab's: they are checked against the same lower bounds as anywhere (Colab's ipywidgets 7.7
  meets ``ipywidgets>=7.7``), but a fix never upgrades or reinstalls a package Colab ships. Replacing a
  package that is already imported needs a restart, and Colab's widget frontend speaks the ipywidgets 7
  protocol only (googlecolab/colabtools#3020, #4525), so ipywidgets 8 there is itself a problem. A Colab
  package that is missing, too old or at ipywidgets 8 was changed in that runtime; the fix is a fresh runtime
  (Runtime > Disconnect and delete runtime), which brings Colab's own versions back.
- **Anywhere else** (a local machine). Besides the runtime packages, JupyterLab is checked against the
  course's ``dev`` extra (the frontend ``make lab`` opens and the browser tests use): too old is a FIX. Not
  installed is only a note, since the kernel's environment need not hold the frontend (JupyterLab running
  from another environment, VS Code, ...).
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from dataclasses import dataclass

from . import data, runtime

# What the chapters import (pyproject's runtime dependencies); lower bounds come from the package metadata.
KEY_PACKAGES = ("torch", "torchvision", "numpy", "scipy", "ipython", "ipywidgets", "matplotlib", "pillow",
                "scikit-learn", "tqdm")
# Checked only outside Colab, against the bounds of the `dev` extra.
LOCAL_PACKAGES = ("jupyterlab",)

COLAB_FRESH_RUNTIME = ("Colab's own version was changed in this runtime: Runtime > Disconnect and delete runtime, "
                       "then run the notebook from the top (do not pip-install packages Colab ships)")


@dataclass
class Item:
    """One line of the environment report."""

    name: str
    found: str
    wanted: str
    ok: bool
    fix: str = ""


def _version_tuple(text: str) -> tuple:
    return tuple(int(p) for p in re.findall(r"\d+", text.split("+")[0])[:3])


def lower_bounds(extra: str | None = None) -> dict[str, str]:
    """``{package: minimum version}`` from course_utils's installed requirements.

    Without ``extra``: the runtime requirements (extras left out); with ``extra="dev"``: only that extra's.
    """
    try:
        requires = metadata.requires("course_utils") or []
    except metadata.PackageNotFoundError:
        return {}
    bounds = {}
    for req in requires:
        marker = re.search(r"""extra\s*==\s*["']([^"']+)["']""", req)
        if (marker.group(1) if marker else None) != extra:
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", req)
        if m:
            bounds[m.group(1).lower()] = m.group(2)
    return bounds


def _package_item(name: str, wanted: str, colab: bool, local_optional: bool = False) -> Item:
    wanted_text = f">= {wanted}" if wanted else "any"
    try:
        found = metadata.version(name)
    except metadata.PackageNotFoundError:
        if colab:
            return Item(name, "not installed", wanted_text, False, COLAB_FRESH_RUNTIME)
        if local_optional:
            return Item(name, "not installed", wanted_text, True,
                        "not in this kernel's environment: fine if your JupyterLab runs from another one or you use "
                        f"another frontend; else pip install '{name}>={wanted}' (or make lab)")
        return Item(name, "not installed", wanted_text, False,
                    f"pip install '{name}>={wanted}'" if wanted else f"pip install {name}")
    ok = not wanted or _version_tuple(found) >= _version_tuple(wanted)
    if colab:
        if name == "ipywidgets" and _version_tuple(found) >= (8,):
            return Item(name, found, "7.x (Colab's frontend shows ipywidgets 7 only)", False, COLAB_FRESH_RUNTIME)
        return Item(name, found, wanted_text, ok, "" if ok else COLAB_FRESH_RUNTIME)
    return Item(name, found, wanted_text, ok,
                "" if ok else f"pip install --upgrade '{name}>={wanted}'"
                + (" (upgrade torch and torchvision together)" if name.startswith("torch") else ""))


def package_items(expected_version: str | None = None, colab: bool | None = None) -> list[Item]:
    """One Item per key package (plus JupyterLab outside Colab), and course_utils against ``expected_version``
    (the notebooks' version). ``colab`` defaults to whether this is a Colab runtime."""
    from . import __version__

    colab = runtime.in_colab() if colab is None else colab
    bounds = lower_bounds()
    items = [_package_item(name, bounds.get(name, ""), colab) for name in KEY_PACKAGES]
    if not colab:
        dev = lower_bounds("dev")
        items += [_package_item(name, dev.get(name, ""), colab, local_optional=True) for name in LOCAL_PACKAGES]
    if expected_version is not None:
        ok = __version__ == expected_version
        fix = ("run the setup cell at the top of this notebook (it installs that version), then Runtime > Restart "
               "session and run the notebook again" if colab
               else "in the course folder: git pull, then pip install -e . and restart the kernel")
        items.append(Item("course_utils", __version__, expected_version, ok, "" if ok else fix))
    return items


def torch_pair_item(colab: bool | None = None) -> Item:
    """torch and torchvision must be a matching pair: importing torchvision's compiled ops shows it."""
    colab = runtime.in_colab() if colab is None else colab
    try:
        import torchvision
        from torchvision.ops import nms  # noqa: F401 - fails when the pair does not match

        torchvision.ops.nms  # noqa: B018
        return Item("torch + torchvision pair", "matching", "matching", True)
    except Exception as err:  # noqa: BLE001 - any import failure means a broken pair
        return Item("torch + torchvision pair", f"broken ({type(err).__name__})", "matching", False,
                    COLAB_FRESH_RUNTIME if colab else
                    "pip install --upgrade torch torchvision (together, unpinned, so pip picks a matching pair)")


def device_item() -> Item:
    device = runtime.get_device()
    note = "" if device.type != "cpu" else "the CPU works for every chapter; full runs take a few minutes each"
    return Item("device", str(device), "cpu, cuda or mps", True, note)


def data_item() -> Item:
    """Whether the full Fashion-MNIST is on this machine (without downloading anything)."""
    arrays, source = data.find_fashion(data.data_dir(), download=False)
    if arrays is not None:
        return Item("Fashion-MNIST", f"full, {source}", "full data set", True)
    raw = data.data_dir() / "FashionMNIST" / "raw"
    return Item("Fashion-MNIST", "only the bundled 4,000-image subset", "full data set", False,
                "online, the first chapter downloads it by itself; offline, "
                + data.HOW_TO_GET_FASHION.format(raw=raw))


def check(expected_version: str | None = None, data: bool = True) -> bool:
    """Print the environment report; True when every item is fine."""
    if expected_version is not None and (not isinstance(expected_version, str) or expected_version.count(".") != 2):
        raise ValueError(f"expected_version must be a version string such as '0.2.0', not {expected_version!r}.")
    colab = runtime.in_colab()
    items = (package_items(expected_version, colab) + [torch_pair_item(colab), device_item()]
             + ([data_item()] if data else []))
    if colab:
        print("Google Colab runtime: checked against Colab's own packages (JupyterLab is not needed here).")
    width = max(len(i.name) for i in items)
    for i in items:
        line = f"{'ok ' if i.ok else 'FIX'}  {i.name:<{width}}  {i.found}"
        if not i.ok:
            line += f"  (needs {i.wanted}): {i.fix}"
        elif i.fix:
            line += f"  ({i.fix})"
        print(line)
    bad = [i.name for i in items if not i.ok]
    print("Everything is in place." if not bad else f"{len(bad)} item(s) to fix: {', '.join(bad)}.")
    return not bad
