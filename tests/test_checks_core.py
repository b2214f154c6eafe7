"""The comparison helpers behind every exercise check are strict and fail closed."""
import numpy as np
import pytest

from coursework.checks import CheckFailed, check, expect_array, expect_tuple


class AlwaysEqual:
    def __eq__(self, other):
        return True

    __array_priority__ = 1000


@pytest.mark.parametrize("got, why", [
    (np.ones((3, 1)), "shape"),               # would broadcast against (3,) in np.allclose
    ([1.0, 1.0, 1.0], "numpy array"),
    (np.ones(3, dtype=np.float32), "float64"),
    (np.array([1.0, np.nan, 1.0]), "NaN"),
    (np.array([1.0, 1.0, 1.1]), "wrong values"),
    (AlwaysEqual(), "numpy array"),
    (np.array([AlwaysEqual()] * 3, dtype=object), "float64"),
])
def test_expect_array_rejects(got, why):
    with pytest.raises(CheckFailed, match=why):
        expect_array("out", got, np.ones(3))


def test_expect_array_accepts_a_correct_answer():
    expect_array("out", np.ones(3) + 1e-12, np.ones(3))
    expect_array("idx", np.arange(3, dtype=np.int32), np.arange(3), kind="i")


def test_expect_tuple():
    assert expect_tuple("f()", [1, 2], 2) == (1, 2)
    with pytest.raises(CheckFailed, match="tuple of 2"):
        expect_tuple("f()", np.ones(2), 2)


def test_self_check_reports_and_raises(capsys):
    wrong = {"scatter_sum_forward": lambda src, index, n: (np.zeros((n,) + src.shape[1:]), index),
             "scatter_sum_backward": lambda dout, cache: dout[cache]}
    with pytest.raises(AssertionError, match="check"):
        check("scatter_sum", wrong)
    report = capsys.readouterr().out
    assert "FAIL forward" in report and "PASS backward" in report and "1 of 3 checks passed" in report


def test_self_check_rejects_unknown_exercise():
    with pytest.raises(ValueError, match="no exercise"):
        check("no_such_exercise", {})


def test_self_check_returns_a_list_shown_as_one_line():
    from refimpl.core.scatter import scatter_sum_backward, scatter_sum_forward
    results = check("scatter_sum", {"scatter_sum_forward": scatter_sum_forward,
                                    "scatter_sum_backward": scatter_sum_backward})
    assert all(r.passed for r in results) and len(results) >= 2
    assert repr(results) == f"<{len(results)} of {len(results)} checks passed>"
