"""Student editions: solutions become stubs, checks stay and say "not yet solved" instead of crashing, rubrics go.

(tests/test_teacher_editions.py checks the rubrics: present in the teacher edition, absent in the student one.)"""

from __future__ import annotations

import ast
import hashlib
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))
spec = importlib.util.spec_from_file_location("make_student_editions", ROOT / "scripts" / "make_student_editions.py")
editions = importlib.util.module_from_spec(spec)
spec.loader.exec_module(editions)


def test_stub_keeps_signatures_and_docstrings_and_drops_the_work():
    source = '''import math

def area(r):
    """Area of a circle."""
    return math.pi * r ** 2

class Box:
    def __init__(self, n):
        self.n = n

total = 0
for i in range(3):
    total += area(i)
print(total)
'''
    stub = editions.stub_source(source, "check(area, Box, total)")
    ast.parse(stub)
    assert "import math" in stub and '"""Area of a circle."""' in stub
    assert "math.pi" not in stub and "self.n = n" not in stub and "print" not in stub
    assert stub.count("raise NotImplementedError") == 2 and stub.count("# your code here") == 3
    assert "total = None" in stub and "i = None" not in stub  # only names the check reads
    namespace = {}
    exec(stub, namespace)
    with pytest.raises(NotImplementedError):
        namespace["area"](1.0)
    with pytest.raises(NotImplementedError):
        namespace["Box"](3)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_name_a_check_reads_is_defined_by_the_stub(path, tmp_path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    assert editions.main([str(path), "--output", str(tmp_path)]) == 0
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the original notebook was modified"
    original = nbformat.read(path, as_version=4)
    student = nbformat.read(tmp_path / path.name, as_version=4)
    # the rubric cells (teacher edition only) are left out; every other cell stays, in order
    original.cells = [c for c in original.cells if not (c.cell_type == "markdown" and "rubric" in c.metadata.get("tags", []))]
    assert len(student.cells) == len(original.cells)
    stubs = 0
    for i, (cell, orig) in enumerate(zip(student.cells, original.cells, strict=True)):
        if "solution" not in orig.metadata.get("tags", []):
            assert cell.source == orig.source
            continue
        stubs += 1
        j = editions.check_cell(original.cells, i)  # the check (after any further solution cells of the exercise)
        needed = editions.solution_names(orig.source) & editions.loaded_names(original.cells[j].source)
        assert needed <= editions.solution_names(cell.source), f"{path.name} cell {i}: stub lacks {needed}"
        assert "solution" not in cell.metadata["tags"] and cell.outputs == []
        assert student.cells[j].outputs == [], "the check's output from the solved run must be cleared"
    assert stubs >= 3


def test_output_folder_cannot_be_the_notebooks_folder():
    with pytest.raises(SystemExit):
        editions.main(["--output", str(ROOT / "notebooks")])


@pytest.mark.slow
def test_student_edition_runs_and_reports_not_yet_solved(tmp_path, monkeypatch):
    from nbclient import NotebookClient

    monkeypatch.setenv("COURSE_SMOKE", "1")
    monkeypatch.setenv("COURSE_HEADLESS", "1")
    chapter = ROOT / "notebooks" / "01_cnn.ipynb"
    editions.main([str(chapter), "--output", str(tmp_path)])
    nb = nbformat.read(tmp_path / chapter.name, as_version=4)
    NotebookClient(nb, timeout=600, kernel_name="python3", resources={"metadata": {"path": str(ROOT / "notebooks")}},
                   allow_errors=False).execute()
    checks = [nb.cells[i + 1] for i, c in enumerate(nb.cells) if "exercise" in c.metadata.get("tags", [])]
    assert len(checks) >= 3
    for cell in checks:
        text = "".join(o.get("text", "") for o in cell.outputs if o.output_type == "stream")
        assert "NOT YET" in text and "not yet solved" in text and "PASSED" not in text, text
