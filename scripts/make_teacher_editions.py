"""Write the teacher edition of every chapter: solutions and rubrics visible, expected outputs kept.

    python scripts/make_teacher_editions.py [--output teacher] [notebooks/01_cnn.ipynb ...]

For each chapter notebook, a copy whose first cell says it is the teacher edition (and names any exercise that
has no rubric yet), whose solution cells (tagged ``solution``) are no longer collapsed and keep the outputs of
the committed full run (the expected outputs), and whose rubric cells (Markdown tagged ``rubric``, right after
each exercise's check) are visible. Everything else is the chapter as committed. Editions go to ``teacher/``
(ignored by git); the originals are never touched. The code is scripts/make_student_editions.py's (``exercises``
finds the cells of each exercise for both editions).
"""

from __future__ import annotations

import importlib.util
import sys
from pathlib import Path

_spec = importlib.util.spec_from_file_location("make_student_editions", Path(__file__).with_name("make_student_editions.py"))
editions = importlib.util.module_from_spec(_spec)
sys.modules[_spec.name] = editions
_spec.loader.exec_module(editions)


def main(argv=None) -> int:
    return editions.main(argv, edition="teacher")


if __name__ == "__main__":
    sys.exit(main())
