"""Small notebook conveniences: show a helper's source where the lesson needs the reader to read it."""

from __future__ import annotations

import inspect


def show_source(obj) -> None:
    """Display the source code of a course_utils function or class as a highlighted block."""
    try:
        source = inspect.getsource(obj)
    except (TypeError, OSError) as err:
        raise TypeError(f"show_source needs a function or class defined in Python source, got {obj!r}.") from err
    from IPython.display import Markdown, display

    display(Markdown(f"```python\n{source}```"))
