"""Teacher editions: every chapter with its solutions visible (outputs kept: the expected outputs), its rubrics
visible, and a first cell saying what it is; the student edition of the same chapter has no rubric; the chapters
themselves are never changed."""

from __future__ import annotations

import hashlib
import importlib.util
from pathlib import Path

import nbformat
import pytest

ROOT = Path(__file__).resolve().parents[1]
CHAPTERS = sorted((ROOT / "notebooks").glob("0[1-9]_*.ipynb"))


spec = importlib.util.spec_from_file_location("make_teacher_editions", ROOT / "scripts" / "make_teacher_editions.py")
teacher_script = importlib.util.module_from_spec(spec)
spec.loader.exec_module(teacher_script)
editions = teacher_script.editions  # scripts/make_student_editions.py: the code both editions share


def _hidden(cell) -> bool:
    return cell.metadata.get("jupyter", {}).get("source_hidden") is True


def _tags(cell) -> list[str]:
    return cell.metadata.get("tags", [])


def _is_rubric(cell) -> bool:
    return cell.cell_type == "markdown" and "rubric" in _tags(cell)


def _build(path: Path, out: Path, edition: str):
    argv = [str(path), "--output", str(out)]
    assert (teacher_script.main(argv) if edition == "teacher" else editions.main(argv)) == 0
    return nbformat.read(out / path.name, as_version=4)


def demo_notebook() -> nbformat.NotebookNode:
    """A chapter in miniature: two exercises, the first with a rubric after its check, the second without."""
    hidden = {"jupyter": {"source_hidden": True}}
    md, code = nbformat.v4.new_markdown_cell, nbformat.v4.new_code_cell
    out = [nbformat.v4.new_output("stream", name="stdout", text="expected 42\n")]
    cells = [md("# 07 · Demo\n\n**After this chapter you can**\n- pass"),
             md("## Exercises\n\n**Exercise 1: the answer.** Compute it."),
             code("answer = 42\nprint('expected', answer)", metadata={**hidden, "tags": ["solution"]}, outputs=out),
             code("checks.check_answer(answer)", outputs=[nbformat.v4.new_output("stream", name="stdout", text="PASSED\n")]),
             md("**Rubric (teacher edition).** Full: 42 and why.", metadata={**hidden, "tags": ["rubric"]}),
             md("**Exercise 2: the question.** Ask it."),
             code("def question():\n    return '?'", metadata={**hidden, "tags": ["solution"]}),
             code("checks.check_question(question)")]
    return nbformat.v4.new_notebook(cells=cells)


def test_teacher_edition_shows_solutions_and_rubrics_and_student_edition_drops_rubrics(tmp_path):
    path = tmp_path / "07_demo.ipynb"
    nbformat.write(demo_notebook(), path)
    before = path.read_bytes()
    teacher = _build(path, tmp_path / "teacher", "teacher")
    student = _build(path, tmp_path / "student", "student")
    assert path.read_bytes() == before
    original = nbformat.read(path, as_version=4)
    # teacher: a banner, then every cell of the chapter in order, solutions and rubric no longer collapsed
    assert "Teacher edition" in teacher.cells[0].source and teacher.metadata["course_edition"] == "teacher"
    assert "Exercise 2: the question" in teacher.cells[0].source, "the banner names the exercise without a rubric"
    assert "Exercise 1" not in teacher.cells[0].source
    assert [c.source for c in teacher.cells[1:]] == [c.source for c in original.cells]
    assert [c.get("outputs") for c in teacher.cells[1:]] == [c.get("outputs") for c in original.cells]
    assert not _hidden(teacher.cells[3]) and not _hidden(teacher.cells[7]) and not _hidden(teacher.cells[5])
    assert "solution" in _tags(teacher.cells[3]) and _is_rubric(teacher.cells[5])
    # student: no rubric, the solutions stubbed
    assert not any(_is_rubric(c) or "Rubric" in c.source for c in student.cells)
    assert len(student.cells) == len(original.cells) - 1
    assert "answer = None" in student.cells[2].source and student.cells[2].outputs == []


def test_exercises_finds_solution_check_and_rubric():
    found = editions.exercises(demo_notebook())
    assert found == [editions.Exercise("Exercise 1: the answer", (2,), 3, 4),
                     editions.Exercise("Exercise 2: the question", (6,), 7, None)]
    nb = demo_notebook()  # an exercise in two solution cells, (a) and (b), with one check after both
    nb.cells.insert(3, nbformat.v4.new_code_cell("answer_b = answer + 1", metadata={"tags": ["solution"]}))
    found = editions.exercises(nb)
    assert found[0] == editions.Exercise("Exercise 1: the answer", (2, 3), 4, 5) and found[1].solutions == (7,)
    assert editions.check_cell(nb.cells, 2) == 4
    nb.cells.insert(4, nbformat.v4.new_code_cell("print(answer_b)"))  # a cell that uses the answer, then the check
    assert editions.check_cell(nb.cells, 2) == 5 and editions.exercises(nb)[0].check == 5


def test_the_edition_must_be_known_and_the_output_not_the_chapters(tmp_path):
    with pytest.raises(ValueError, match="edition"):
        editions.main([], edition="examiner")
    with pytest.raises(SystemExit):
        teacher_script.main(["--output", str(ROOT / "notebooks")])


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_teacher_edition_of_every_chapter(path, tmp_path):
    before = hashlib.sha256(path.read_bytes()).hexdigest()
    teacher = _build(path, tmp_path, "teacher")
    assert hashlib.sha256(path.read_bytes()).hexdigest() == before, "the original notebook was modified"
    original = nbformat.read(path, as_version=4)
    assert "Teacher edition" in teacher.cells[0].source
    body = teacher.cells[1:]
    assert len(body) == len(original.cells)
    solutions = 0
    for cell, orig in zip(body, original.cells, strict=True):
        assert cell.source == orig.source and cell.get("outputs") == orig.get("outputs")
        if "solution" in _tags(orig) or _is_rubric(orig):
            assert not _hidden(cell), f"{path.name}: a solution or rubric cell is still collapsed"
            solutions += "solution" in _tags(orig)
        else:
            assert cell.metadata == orig.metadata
    assert solutions >= 3


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_student_edition_of_every_chapter_has_no_rubric(path, tmp_path):
    student = _build(path, tmp_path, "student")
    assert not any(_is_rubric(c) for c in student.cells)
    assert not any(editions.RUBRIC_START in c.source for c in student.cells)


@pytest.mark.parametrize("path", CHAPTERS, ids=[p.stem for p in CHAPTERS])
def test_every_exercise_has_a_rubric_after_its_check(path):
    """The chapters' rubric cells: one per exercise, after its check (before the next exercise), hidden, titled."""
    nb = nbformat.read(path, as_version=4)
    found = editions.exercises(nb)
    assert found, f"{path.name} has no exercises"
    lacking = [ex.title for ex in found if ex.rubric is None]
    assert not lacking, f"{path.name}: no rubric cell for " + "; ".join(lacking)
    for ex in found:
        rubric = nb.cells[ex.rubric]
        assert ex.check is not None and ex.rubric > ex.check, f"{path.name}: the rubric of {ex.title} is not after its check"
        assert _hidden(rubric), f"{path.name}: the rubric of {ex.title} must be source-hidden in the chapter"
        assert rubric.source.startswith(editions.RUBRIC_START), f"{path.name}: the rubric of {ex.title} must begin {editions.RUBRIC_START}"


def test_make_teacher_and_the_folder_is_ignored():
    assert "\nteacher:" in (ROOT / "Makefile").read_text()
    assert "/teacher/" in (ROOT / ".gitignore").read_text().split()
