"""The input checks every public function relies on."""
import numpy as np
import pytest

from refimpl.validate import as_float_array, as_index_array


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
