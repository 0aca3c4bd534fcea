"""environment.check: the course index's report of versions, device and data, with a fix for each problem,
locally and in Google Colab (simulated: a stand-in ``google.colab`` module and Colab's package versions)."""

import importlib.metadata as metadata
import sys
import types

import pytest

import course_utils
from course_utils import environment

# Google Colab's versions (tests/colab/colab-2026-08-19.txt) of the packages the report looks at.
COLAB_VERSIONS = {"torch": "2.11.0", "torchvision": "0.26.0", "numpy": "2.1.3", "scipy": "1.16.3",
                  "ipython": "7.34.0", "ipywidgets": "7.7.1", "matplotlib": "3.10.0", "scikit-learn": "1.6.1",
                  "tqdm": "4.67.3", "traitlets": "5.7.1"}


@pytest.fixture
def local(monkeypatch):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)


@pytest.fixture
def colab(monkeypatch):
    """A Colab runtime as environment.py sees it: google.colab imported, Colab's versions, no JupyterLab."""
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))
    versions = dict(COLAB_VERSIONS)
    real = metadata.version

    def fake(name):
        if name in versions:
            if versions[name] is None:
                raise metadata.PackageNotFoundError(name)
            return versions[name]
        if name == "jupyterlab":  # Colab does not ship it
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(environment.metadata, "version", fake)
    return versions


def test_lower_bounds_come_from_the_package_metadata():
    bounds = environment.lower_bounds()
    assert bounds["torch"] == "2.2" and bounds["ipywidgets"] == "7.7"
    assert "pytest" not in bounds and "jupyterlab" not in bounds  # extras are not requirements of a learner's machine
    assert environment.lower_bounds("dev")["jupyterlab"] == "4"


def test_everything_fine_here(local, capsys):
    assert environment.check(course_utils.__version__, data=False) is True
    out = capsys.readouterr().out
    assert "Everything is in place." in out and "Colab" not in out
    assert "ok   jupyterlab" in out  # checked locally


def test_old_and_missing_packages_get_a_fix(local, monkeypatch, capsys):
    real = metadata.version

    def fake(name):
        if name == "ipywidgets":
            return "7.6.5"
        if name == "matplotlib":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(environment.metadata, "version", fake)
    assert environment.check("0.0.9", data=False) is False
    out = capsys.readouterr().out
    assert "FIX  ipywidgets" in out and "pip install --upgrade 'ipywidgets>=7.7'" in out
    assert "matplotlib" in out and "not installed" in out
    assert "needs 0.0.9" in out and "pip install -e ." in out
    assert "3 item(s) to fix: ipywidgets, matplotlib, course_utils." in out


def test_jupyterlab_locally_old_is_a_fix_missing_is_a_note(local, monkeypatch, capsys):
    real = metadata.version
    found = {"jupyterlab": "3.6.8"}

    def fake(name):
        if name in found:
            if found[name] is None:
                raise metadata.PackageNotFoundError(name)
            return found[name]
        return real(name)

    monkeypatch.setattr(environment.metadata, "version", fake)
    assert environment.check(course_utils.__version__, data=False) is False
    out = capsys.readouterr().out
    assert "FIX  jupyterlab" in out and "pip install --upgrade 'jupyterlab>=4'" in out
    found["jupyterlab"] = None
    assert environment.check(course_utils.__version__, data=False) is True
    out = capsys.readouterr().out
    assert "ok   jupyterlab" in out and "not installed" in out and "another frontend" in out


def test_colab_accepts_its_own_packages_and_does_not_ask_for_jupyterlab(colab, capsys):
    assert environment.check(course_utils.__version__, data=False) is True
    out = capsys.readouterr().out
    assert out.startswith("Google Colab runtime")
    assert "ok   ipywidgets" in out and "7.7.1" in out
    assert "jupyterlab" not in out.lower().replace("jupyterlab is not needed", "")
    assert "FIX" not in out and "Everything is in place." in out


def test_colab_never_suggests_pip_for_what_colab_ships(colab, monkeypatch, capsys):
    colab.update(ipywidgets="8.1.7", matplotlib=None, torch="2.1.0")
    monkeypatch.setitem(sys.modules, "torchvision.ops", None)  # a broken torch + torchvision pair
    assert environment.check("0.0.9", data=False) is False
    out = capsys.readouterr().out
    fixes = [line for line in out.splitlines() if line.startswith("FIX")]
    names = ("torch", "ipywidgets", "matplotlib", "course_utils", "torch + torchvision pair")
    lines = {name: next(line for line in fixes if line.startswith(f"FIX  {name}  ")) for name in names}
    assert len(fixes) == len(names)
    assert "Colab's frontend shows ipywidgets 7 only" in lines["ipywidgets"]
    for name in ("ipywidgets", "matplotlib", "torch", "torch + torchvision pair"):
        assert "Runtime > Disconnect and delete runtime" in lines[name], lines[name]
    assert "run the setup cell" in lines["course_utils"] and "Restart session" in lines["course_utils"]
    assert "pip install" not in out and "--upgrade" not in out and "make lab" not in out
    assert "5 item(s) to fix: torch, ipywidgets, matplotlib, course_utils, torch + torchvision pair." in out


def test_key_packages_are_the_runtime_dependencies():
    assert set(environment.KEY_PACKAGES) == set(environment.lower_bounds())


def test_version_tuples_compare_numerically():
    assert environment._version_tuple("2.15.0+cu132") > environment._version_tuple("2.2")
    assert environment._version_tuple("0.29.2") >= environment._version_tuple("0.17")


def test_bad_expected_version():
    with pytest.raises(ValueError, match="version string"):
        environment.check("latest")
