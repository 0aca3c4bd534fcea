"""The Colab setup cell (scripts/update_setup_cells.py's template), run as Colab would run it: which pip command it
issues, that it stays quiet and skips the install when the version is already there, and the one line it shows when
the install fails. (tests/test_notebooks.py checks that every notebook's setup cell is this template.)"""

import importlib.metadata
import importlib.util
import subprocess
import sys
import tomllib
import types
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[1]
PROJECT = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
VERSION, REPO_URL = PROJECT["version"], PROJECT["urls"]["Repository"]
_spec = importlib.util.spec_from_file_location("update_setup_cells", ROOT / "scripts" / "update_setup_cells.py")
_setup_script = importlib.util.module_from_spec(_spec)
_spec.loader.exec_module(_setup_script)
SETUP_CELL = _setup_script.expected_setup()


@pytest.fixture
def colab(monkeypatch):
    monkeypatch.setitem(sys.modules, "google.colab", types.ModuleType("google.colab"))


def _installed(monkeypatch, version):
    real = importlib.metadata.version

    def fake(name):
        if name == "course_utils":
            if version is None:
                raise importlib.metadata.PackageNotFoundError(name)
            return version
        return real(name)

    monkeypatch.setattr(importlib.metadata, "version", fake)


def _run_cell():
    exec(compile(SETUP_CELL, "<setup cell>", "exec"), {"__name__": "__main__"})


class _Calls(list):
    returncode = 0  # what the fake pip returns


@pytest.fixture
def calls(monkeypatch):
    """Records the commands the cell runs, instead of running them."""
    recorded = _Calls()

    def fake_run(cmd, **kwargs):
        recorded.append((cmd, kwargs))
        return subprocess.CompletedProcess(cmd, recorded.returncode, b"", b"")

    monkeypatch.setattr(subprocess, "run", fake_run)
    return recorded


def test_in_colab_it_installs_the_tag_of_the_pyproject_version_quietly(colab, calls, monkeypatch, capsys):
    _installed(monkeypatch, None)
    _run_cell()
    assert len(calls) == 1
    cmd, kwargs = calls[0]
    assert cmd == [sys.executable, "-m", "pip", "install", "-q", f"course_utils @ git+{REPO_URL}@v{VERSION}"]
    assert kwargs.get("capture_output") is True  # pip's output is kept back
    assert capsys.readouterr().out == ""


def test_in_colab_an_installed_matching_version_is_not_reinstalled(colab, calls, monkeypatch, capsys):
    _installed(monkeypatch, VERSION)
    _run_cell()
    assert calls == [] and capsys.readouterr().out == ""


def test_a_failed_install_says_in_one_line_what_to_run_instead(colab, calls, monkeypatch):
    _installed(monkeypatch, "0.0.1")
    calls.returncode = 1
    with pytest.raises(Exception) as info:
        _run_cell()
    assert type(info.value).__name__ == "SetupError"
    shown = info.value._render_traceback_()  # what Jupyter prints instead of a traceback
    assert len(shown) == 1 and "\n" not in shown[0]
    assert f"v{VERSION}" in shown[0]
    assert f'%pip install -q "course_utils @ git+{REPO_URL}@main"' in shown[0]


def test_outside_colab_nothing_is_installed(monkeypatch, calls):
    monkeypatch.delitem(sys.modules, "google.colab", raising=False)
    _run_cell()
    assert calls == []

