"""The exercise-check harness: a check never crashes, and 'not yet solved' is told apart from a wrong answer."""

from course_utils.checks import attempt, exercise


@exercise("Exercise 0.1: double", needs="define double(x)")
def check_double(fn):
    return fn(3) == 6 and fn(-1) == -2


def test_a_right_answer_passes_and_a_wrong_one_does_not(capsys):
    assert check_double(lambda x: 2 * x) is True
    assert check_double(lambda x: x + 3) is False


def test_missing_and_unfinished_answers_are_not_yet_solved(capsys):
    assert check_double(None) is False
    assert "NOT YET - Exercise 0.1: double: not yet solved - define double(x)." in capsys.readouterr().out

    def unfinished(x):
        raise NotImplementedError

    assert check_double(unfinished) is False
    assert "replace the `raise NotImplementedError`" in capsys.readouterr().out


def test_an_error_in_the_answer_becomes_a_one_line_hint(capsys):
    assert check_double("not a function") is False
    out = capsys.readouterr().out
    assert out.count("\n") == 1 and "TypeError" in out and "'str' object is not callable" in out


def test_attempt_reports_errors_without_raising(capsys):
    value, failure = attempt("t", lambda: 1 / 0)
    assert value is None and failure is False and "ZeroDivisionError" in capsys.readouterr().out
    assert attempt("t", lambda: 5) == (5, None)
