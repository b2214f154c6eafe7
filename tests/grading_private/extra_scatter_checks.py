"""An instructor's private test (example, used by tests/test_grading.py): scatter-sum of a 3-D src.

Pass this folder with ``python -m coursework.grading ... --private-tests tests/grading_private``.
Checks added here are private: graded, never run by the students' ``check(...)``.
"""
import numpy as np

from refimpl.core import scatter
from coursework.checks import EXERCISES, expect_array, expect_tuple, student_function


def make_inputs(rng):
    return {"src": rng.normal(size=(15, 2, 3)), "index": rng.integers(0, 5, size=15), "dim_size": np.array(5)}


def run(student, x):
    out, _ = expect_tuple("scatter_sum_forward(...)", student_function(student, "scatter_sum_forward")(
        x["src"], x["index"], int(x["dim_size"])), 2)
    return {"out": out}


def verify(x, got):
    want, _ = scatter.scatter_sum_forward(x["src"], x["index"], int(x["dim_size"]))
    expect_array("scatter_sum_forward on a 3-D src of shape (15, 2, 3)", got["out"], want)


EXERCISES["scatter_sum"].add("forward works for a 3-D src", make_inputs, run, verify)
