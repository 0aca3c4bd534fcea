"""The model-target benchmarks (benchmarks/target_*.py) measure what the chapters run in full mode.

Each benchmark states the budget it trains with; the chapter's configuration cell states its own. If one is
changed without the other, the README's model targets would describe a run no learner makes.
"""

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def full_setting(notebook: str, name: str):
    """The full-mode value of ``name=(full, smoke)`` in a chapter's configuration cell."""
    text = (ROOT / "notebooks" / notebook).read_text()
    match = re.search(rf"^\s+{name}=\((.+?),\s*[^,]+\),", text, flags=re.M)
    assert match, f"{notebook} has no {name}=(full, smoke) setting"
    return ast.literal_eval(match.group(1))


def module_constant(script: str, pattern: str):
    match = re.search(pattern, (ROOT / "benchmarks" / script).read_text(), flags=re.M)
    assert match, f"{script}: {pattern!r} not found"
    return ast.literal_eval(match.group(1))


def test_cnn_target_trains_the_chapters_epochs():
    assert module_constant("target_cnn.py", r"^EPOCHS, LR, BATCH_SIZE = (\d+),") == full_setting("01_cnn.py", "cnn_epochs")


def test_cnn_target_trains_the_chapters_model():
    text = (ROOT / "notebooks" / "01_cnn.py").read_text()
    match = re.search(r"^cnn = models\.FashionCNN\(channels=(\(.+?\))\)", text, flags=re.M)
    assert match, "01_cnn.py builds no `cnn = models.FashionCNN(channels=(...))`"
    assert module_constant("target_cnn.py", r"^CHANNELS = (\(.+\))") == ast.literal_eval(match.group(1))


def test_charlm_target_trains_the_chapters_seconds():
    assert module_constant("target_charlm.py", r"^TRAIN_SECONDS = (\d+)") == full_setting("03_lstm_gru.py", "lm_seconds")
