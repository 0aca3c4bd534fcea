"""The harness of the exercise checks; each chapter's checks live in its folder (``course_utils.cnn.checks``, ...).

A check is called on the learner's answer, returns True/False and prints one line: "passed" or a specific
hint. An answer that is missing (``None``) or still raises ``NotImplementedError`` is reported as "not yet
solved", never as a crash.
"""

from __future__ import annotations

import functools

NOT_YET = "not yet solved - replace the `raise NotImplementedError` with your code."


def report(title: str, ok: bool, message: str) -> bool:
    """Print one result line and return ``ok``."""
    print(f"{'PASSED' if ok else 'NOT YET'} - {title}: {message}")
    return ok


def attempt(title, fn, *args, **kwargs):
    """Call the learner's code; returns (value, None) or (None, printed failure)."""
    try:
        return fn(*args, **kwargs), None
    except NotImplementedError:
        return None, report(title, False, NOT_YET)
    except Exception as err:  # noqa: BLE001 - any error in the learner's code becomes a hint
        return None, report(title, False, f"your code raised {type(err).__name__}: {err}")


def exercise(title: str, needs: str = ""):
    """Decorator for a check ``check(answer, ...) -> bool``: the boilerplate every check shares.

    ``needs`` says what the answer is (e.g. "define conv_output_size(h, k, s=1, p=0, d=1)"), printed with
    "not yet solved". A missing answer (``None``) or one that still raises ``NotImplementedError`` is "not yet
    solved"; any other
    error raised while checking the answer (a wrong type, a wrong shape, a bug in the learner's function) is
    printed as a hint naming it. A check never crashes.
    """

    def decorate(check):
        @functools.wraps(check)
        def run(answer, *args, **kwargs) -> bool:
            if answer is None:
                return report(title, False, f"not yet solved - {needs}." if needs else NOT_YET)
            try:
                return bool(check(answer, *args, **kwargs))
            except NotImplementedError:
                return report(title, False, NOT_YET)
            except Exception as err:  # noqa: BLE001 - any error from the learner's answer becomes a hint
                return report(title, False, f"checking your answer raised {type(err).__name__}: {err}")

        run.title = title
        return run

    return decorate
