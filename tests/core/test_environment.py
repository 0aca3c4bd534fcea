"""The dependency lists: environment.yml (conda route) and pyproject.toml (pip route) ask for the same packages;
the runtime dependencies are what the chapters import, met by Colab's package set; the local tools are extras."""

import ast
import importlib.metadata as metadata
import re
import sys
import tomllib
from pathlib import Path

import yaml
from packaging.version import Version

ROOT = Path(__file__).resolve().parents[2]


def _name_and_spec(req: str) -> tuple[str, str]:
    m = re.match(r"^\s*([A-Za-z0-9_.\-]+)\s*(.*)$", req)
    return m.group(1).lower().replace("_", "-"), m.group(2).replace(" ", "")


# Google's published list of the packages in a Colab runtime (see tests/colab/README.md).
COLAB_PINS = ROOT / "tests" / "colab" / "colab-2026-08-19.txt"
# Used to work on the course locally, never imported by a chapter: they belong in the dev extra, since installing
# them in Colab would replace packages Colab ships (ipywidgets, ipython, traitlets, ...).
LOCAL_TOOLS = {"jupyterlab", "jupytext", "nbval", "pytest", "ruff", "playwright", "nbclient", "pyyaml"}


def _project() -> dict:
    return tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]


def test_environment_yml_matches_pyproject():
    project = _project()
    runtime = dict(map(_name_and_spec, project["dependencies"]))
    dev = dict(map(_name_and_spec, project["optional-dependencies"]["dev"]))
    assert not runtime.keys() & dev.keys(), "a package is both a runtime dependency and in the dev extra"
    wanted = runtime | dev
    env = yaml.safe_load((ROOT / "environment.yml").read_text())
    pip_section = next(d["pip"] for d in env["dependencies"] if isinstance(d, dict) and "pip" in d)
    listed = dict(_name_and_spec(r) for r in pip_section if not r.startswith("-e"))
    assert listed == wanted
    assert "-e ." in pip_section


def test_torch_is_never_pinned():
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    for req in project["dependencies"]:
        name, spec = _name_and_spec(req)
        if name in {"torch", "torchvision"}:
            assert spec.startswith(">=") and "<" not in spec and "==" not in spec, req


def test_makefile_installs_the_dev_extra():
    assert '-e ".[dev]"' in (ROOT / "Makefile").read_text()


def test_runtime_dependencies_are_what_the_chapters_import():
    """Every third-party module that course_utils or a chapter imports, and nothing else (no local tools)."""
    imported = set()
    files = list((ROOT / "course_utils").rglob("*.py")) + list((ROOT / "notebooks").glob("[0-9][0-9]_*.py"))
    for path in files:
        for node in ast.walk(ast.parse(path.read_text(), filename=str(path))):
            if isinstance(node, ast.Import):
                imported |= {alias.name.split(".")[0] for alias in node.names}
            elif isinstance(node, ast.ImportFrom) and node.level == 0:
                imported.add(node.module.split(".")[0])
    third_party = {m for m in imported if m not in sys.stdlib_module_names and m != "course_utils"}
    owners = metadata.packages_distributions()
    unknown = sorted(m for m in third_party if m not in owners)
    assert not unknown, f"imported but not installed here: {unknown}"
    imported_dists = {owners[m][0].lower().replace("_", "-") for m in third_party}
    runtime = {_name_and_spec(r)[0] for r in _project()["dependencies"]}
    assert runtime == imported_dists


def test_local_tools_are_only_in_the_dev_extra():
    project = _project()
    runtime = {_name_and_spec(r)[0] for r in project["dependencies"]}
    dev = {_name_and_spec(r)[0] for r in project["optional-dependencies"]["dev"]}
    assert not runtime & LOCAL_TOOLS
    assert {"jupyterlab", "jupytext", "nbval"} <= dev


def _colab_versions() -> dict[str, str]:
    pins = {}
    for line in COLAB_PINS.read_text().splitlines():
        if line and not line.startswith("#"):
            name, version = line.split("==")
            pins[name.lower().replace("_", "-")] = version
    return pins


def test_colab_meets_every_lower_bound():
    """The Colab setup cell must not upgrade anything Colab ships: each runtime bound is met by Colab's version."""
    colab = _colab_versions()
    assert colab["ipywidgets"] == "7.7.1" and colab["torch"] == "2.11.0"  # the file is the one we think it is
    for req in _project()["dependencies"]:
        name, spec = _name_and_spec(req)
        assert re.fullmatch(r">=[0-9.]+", spec), f"{req}: lower bounds only"
        assert name in colab, f"{name} is not in Colab's package set: the setup cell would have to add it"
        assert Version(colab[name]) >= Version(spec[2:]), f"{req} is not met by Colab's {name} {colab[name]}"
