"""The input checks every public function relies on."""
import numpy as np
import pytest

from refimpl.core.validate import as_float_array, as_index_array, check_flag, check_like, check_number


@pytest.mark.parametrize("bad", [[1.0, np.nan], [np.inf, -np.inf], [np.inf, 1.0], [[0.0, -np.inf]]])
def test_non_finite_entries_are_rejected_and_counted(bad):
    n_bad = int(np.sum(~np.isfinite(np.asarray(bad))))
    with pytest.raises(ValueError, match=f"x: expected finite values, found {n_bad} NaN"):
        as_float_array("x", bad)


def test_huge_finite_values_whose_sum_overflows_are_accepted(recwarn):
    """The fast path sums the array; an overflowing sum of finite numbers must not be an error."""
    x = np.array([1e308, 1e308, -1e308, -1e308])
    assert as_float_array("x", x) is x
    assert not [w for w in recwarn if issubclass(w.category, RuntimeWarning)]


def test_non_finite_allowed_when_asked():
    assert np.isnan(as_float_array("x", [np.nan], finite=False)[0])


def test_shape_rank_and_type_errors_name_the_argument():
    with pytest.raises(ValueError, match=r"pos: expected shape \(any, 3\), got \(4, 2\)"):
        as_float_array("pos", np.zeros((4, 2)), shape=(None, 3))
    with pytest.raises(ValueError, match="W: expected 2 dimensions"):
        as_float_array("W", np.zeros(3), ndim=2)
    with pytest.raises(ValueError, match="x: expected an array of real numbers"):
        as_float_array("x", ["a", "b"])


def test_index_arrays_are_range_checked():
    with pytest.raises(ValueError, match="idx"):
        as_index_array("idx", [0, 5], size=5)
    assert as_index_array("idx", [0.0, 4.0], size=5).dtype == np.int64


def test_check_like_compares_shapes_exactly_and_tests_finiteness():
    with pytest.raises(ValueError, match=r"^dout: expected shape \(6, 3\) \(the forward output's\), got \(7, 3\)$"):
        check_like("dout", np.zeros((7, 3)), (6, 3))
    with pytest.raises(ValueError, match=r"^dr: expected shape \(4, 3\)"):
        check_like("dr", np.zeros((1, 3)), (4, 3))                  # would broadcast
    with pytest.raises(ValueError, match=r"^dd: expected finite values, found 1 NaN"):
        check_like("dd", [1.0, np.nan], (2,))
    assert np.isnan(check_like("dd", [1.0, np.nan], (2,), finite=False)[1])   # the hot path: shape only
    with pytest.raises(ValueError, match=r"^dd: expected shape"):
        check_like("dd", [1.0, np.nan, 2.0], (2,), finite=False)
    assert check_like("dout", 2, ()).dtype == np.float64


@pytest.mark.parametrize("value", ["0.1", None, True, np.nan, -np.inf, [0.1], np.array([0.1]), 1j])
def test_check_number_rejects_what_is_not_one_finite_real_number(value):
    with pytest.raises(ValueError, match=r"^lr: expected a finite number"):
        check_number("lr", value)


def test_check_number_bounds_and_flags():
    assert check_number("lr", np.float32(0.5), low=0.0, low_inclusive=False) == 0.5
    assert check_number("jitter", 0, low=0.0) == 0.0
    with pytest.raises(ValueError, match=r"^lr: expected a finite number > 0, got 0"):
        check_number("lr", 0, low=0.0, low_inclusive=False)
    assert check_flag("self_loops", np.bool_(True)) is True
    for bad in ("yes", 1, None):
        with pytest.raises(ValueError, match=r"^self_loops: expected True or False"):
            check_flag("self_loops", bad)
