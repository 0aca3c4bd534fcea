import pytest
import torch

from course_utils import runtime


def test_config_uses_smoke_values_only_in_smoke_mode(monkeypatch):
    monkeypatch.setenv("COURSE_SMOKE", "1")
    cfg = runtime.Config(num_epochs=(10, 1), batch_size=(256, 128))
    assert cfg.smoke and cfg.num_epochs == 1 and cfg.batch_size == 128
    text = repr(cfg)
    assert "SMOKE" in text and "num_epochs" in text and "10" in text
    monkeypatch.setenv("COURSE_SMOKE", "0")
    cfg = runtime.Config(num_epochs=(10, 1))
    assert not cfg.smoke and cfg.num_epochs == 10 and cfg.as_dict() == {"num_epochs": 10}
    assert runtime.Config(num_epochs=(10, 1), smoke=True).num_epochs == 1


def test_config_errors():
    with pytest.raises(ValueError, match=r"must be a \(full, smoke\) pair"):
        runtime.Config(num_epochs=10)
    with pytest.raises(AttributeError, match="Config has no setting 'lr'"):
        _ = runtime.Config(num_epochs=(1, 1)).lr


@pytest.mark.parametrize("value,expected", [("1", True), ("true", True), ("YES", True), ("0", False), ("", False)])
def test_smoke_mode_reads_one_variable(monkeypatch, value, expected):
    monkeypatch.setenv("COURSE_SMOKE", value)
    assert runtime.smoke_mode() is expected


@pytest.mark.parametrize("value,default,expected", [(None, True, True), ("", True, True), ("0", True, False),
                                                     ("off", True, False), (None, False, False), ("1", False, True)])
def test_flag_default_applies_only_when_unset(monkeypatch, value, default, expected):
    if value is None:
        monkeypatch.delenv("COURSE_PRECOMPUTE", raising=False)
    else:
        monkeypatch.setenv("COURSE_PRECOMPUTE", value)
    assert runtime.flag("COURSE_PRECOMPUTE", default=default) is expected


def test_seeding_repeats_and_device():
    runtime.seed_everything(3)
    a = torch.rand(3)
    runtime.seed_everything(3)
    assert torch.equal(a, torch.rand(3))
    assert runtime.get_device("cpu").type == "cpu"
    assert runtime.get_device().type in {"cpu", "cuda", "mps"}
    with pytest.raises(ValueError, match="prefer must be"):
        runtime.get_device("tpu")
    with pytest.raises(ValueError, match="non-negative int"):
        runtime.seed_everything(-1)


def test_check_version(capsys):
    import course_utils

    assert runtime.check_version(course_utils.__version__) is True
    assert capsys.readouterr().out == ""
    assert runtime.check_version("0.0.1") is False
    out = capsys.readouterr().out
    assert "Version mismatch" in out and "pip install -e ." in out and "0.0.1" in out
    with pytest.raises(ValueError, match="version string"):
        runtime.check_version(2)
