"""Is this machine ready for the course? Package versions, course_utils version, device and data.

Introduced for the course index (``notebooks/00_index``). ``check()`` prints one line per item with
what to fix, and returns True when everything the chapters need is in place.
"""

from __future__ import annotations

import importlib.metadata as metadata
import re
from dataclasses import dataclass

# The packages a learner most often has in the wrong version; lower bounds come from the package metadata.
KEY_PACKAGES = ("torch", "torchvision", "ipywidgets", "matplotlib", "scikit-learn", "jupyterlab")


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


def lower_bounds() -> dict[str, str]:
    """``{package: minimum version}`` from course_utils's installed requirements (extras left out)."""
    try:
        requires = metadata.requires("course_utils") or []
    except metadata.PackageNotFoundError:
        return {}
    bounds = {}
    for req in requires:
        if "extra ==" in req:
            continue
        m = re.match(r"^([A-Za-z0-9_.-]+)\s*>=\s*([0-9.]+)", req)
        if m:
            bounds[m.group(1).lower()] = m.group(2)
    return bounds


def package_items(expected_version: str | None = None) -> list[Item]:
    """One Item per key package, plus course_utils against ``expected_version`` (the notebooks' version)."""
    from . import __version__

    bounds = lower_bounds()
    items = []
    for name in KEY_PACKAGES:
        wanted = bounds.get(name, "")
        try:
            found = metadata.version(name)
        except metadata.PackageNotFoundError:
            items.append(Item(name, "not installed", f">= {wanted}" if wanted else "any", False,
                              f"pip install '{name}>={wanted}'" if wanted else f"pip install {name}"))
            continue
        ok = not wanted or _version_tuple(found) >= _version_tuple(wanted)
        items.append(Item(name, found, f">= {wanted}" if wanted else "any", ok,
                          "" if ok else f"pip install --upgrade '{name}>={wanted}'"
                          + (" (upgrade torch and torchvision together)" if name.startswith("torch") else "")))
    if expected_version is not None:
        ok = __version__ == expected_version
        items.append(Item("course_utils", __version__, expected_version, ok,
                          "" if ok else "in the course folder: git pull, then pip install -e . and restart the kernel"))
    return items


def torch_pair_item() -> Item:
    """torch and torchvision must be a matching pair: importing torchvision's compiled ops shows it."""
    try:
        import torchvision
        from torchvision.ops import nms  # noqa: F401 - fails when the pair does not match

        torchvision.ops.nms  # noqa: B018
        return Item("torch + torchvision pair", "matching", "matching", True)
    except Exception as err:  # noqa: BLE001 - any import failure means a broken pair
        return Item("torch + torchvision pair", f"broken ({type(err).__name__})", "matching", False,
                    "pip install --upgrade torch torchvision (together, unpinned, so pip picks a matching pair)")


def device_item() -> Item:
    from . import runtime

    device = runtime.get_device()
    note = "" if device.type != "cpu" else "the CPU works for every chapter; full runs take a few minutes each"
    return Item("device", str(device), "cpu, cuda or mps", True, note)


def data_item() -> Item:
    """Whether the full Fashion-MNIST is on this machine (without downloading anything)."""
    from . import data

    arrays, source = data._find_fashion(data.data_dir(), download=False)
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
    items = package_items(expected_version) + [torch_pair_item(), device_item()] + ([data_item()] if data else [])
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
