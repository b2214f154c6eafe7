"""Every backward of the registry rejects an upstream gradient that does not fit the forward output.

A ``dout`` of the wrong shape used to broadcast or index its way into a silently wrong
gradient, and a NaN ``dout`` to spread NaN through every parameter. Each backward now checks
its ``dout`` (``validate.check_like``) and raises a ValueError that starts with the name of
that argument (``dout``, ``dr``, ``dE``, ...).
"""
import inspect
import re

import numpy as np
import pytest

from registry import REGISTRY


def _dout_name(backward):
    return next(iter(inspect.signature(backward).parameters))


def _wrong_shapes(shape):
    """Shapes that are not ``shape``: one more row, and one more leading axis (which broadcasts)."""
    if not shape:
        return [(1,), (2,)]
    return [(shape[0] + 1,) + shape[1:], (1,) + shape]


@pytest.mark.parametrize("row", REGISTRY, ids=lambda r: r.name)
def test_backward_rejects_a_dout_of_the_wrong_shape_or_with_nan(row):
    rng = np.random.default_rng(0)
    out, cache = row.forward(**row.make_inputs(rng))
    shape, name = np.shape(out), _dout_name(row.backward)
    row.backward(rng.normal(size=shape), cache)                       # the right shape is accepted
    for wrong in _wrong_shapes(shape):
        message = f"{name}: expected shape {shape} (the forward output's), got {wrong}"
        with pytest.raises(ValueError, match="^" + re.escape(message) + "$"):
            row.backward(rng.normal(size=wrong), cache)
    nan = np.array(rng.normal(size=shape))
    nan[(-1,) * len(shape)] = np.nan
    with pytest.raises(ValueError, match=rf"^{name}: expected finite values, found 1 NaN"):
        row.backward(nan, cache)
    if "check_finite" in inspect.signature(row.backward).parameters:    # the hot-path switch keeps the shape test
        row.backward(nan, cache, check_finite=False)
        with pytest.raises(ValueError, match=rf"^{name}: expected shape"):
            row.backward(rng.normal(size=_wrong_shapes(shape)[0]), cache, check_finite=False)


def test_the_messages_name_the_arguments():
    """The name in the message is the backward's own argument name, not always "dout"."""
    names = {_dout_name(row.backward) for row in REGISTRY}
    assert {"dout", "dr", "dd", "du", "df", "de", "dW_ij", "dy", "dv", "dE"} <= names
