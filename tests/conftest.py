import pytest

from course_utils import data


@pytest.fixture
def offline_data(tmp_path, monkeypatch):
    """No cache, no system copy, no network: only what ships inside the package."""
    monkeypatch.setenv("COURSE_DATA_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_OFFLINE", "1")
    monkeypatch.setattr(data, "SYSTEM_FASHION_DIR", tmp_path / "no-system-copy")
    return tmp_path
