"""environment.check: the course index's report of versions, device and data, with a fix for each problem."""

import importlib.metadata as metadata

import pytest

import course_utils
from course_utils import environment


def test_lower_bounds_come_from_the_package_metadata():
    bounds = environment.lower_bounds()
    assert bounds["torch"] == "2.2" and bounds["ipywidgets"] == "8"
    assert "pytest" not in bounds  # extras are not requirements of a learner's machine


def test_everything_fine_here(capsys):
    assert environment.check(course_utils.__version__, data=False) is True
    assert "Everything is in place." in capsys.readouterr().out


def test_old_and_missing_packages_get_a_fix(monkeypatch, capsys):
    real = metadata.version

    def fake(name):
        if name == "ipywidgets":
            return "7.8.1"
        if name == "matplotlib":
            raise metadata.PackageNotFoundError(name)
        return real(name)

    monkeypatch.setattr(environment.metadata, "version", fake)
    assert environment.check("0.0.9", data=False) is False
    out = capsys.readouterr().out
    assert "FIX  ipywidgets" in out and "pip install --upgrade 'ipywidgets>=8'" in out
    assert "matplotlib" in out and "not installed" in out
    assert "needs 0.0.9" in out and "pip install -e ." in out
    assert "3 item(s) to fix: ipywidgets, matplotlib, course_utils." in out


def test_version_tuples_compare_numerically():
    assert environment._version_tuple("2.15.0+cu132") > environment._version_tuple("2.2")
    assert environment._version_tuple("0.29.2") >= environment._version_tuple("0.17")


def test_bad_expected_version():
    with pytest.raises(ValueError, match="version string"):
        environment.check("latest")
