"""Finite-difference gradient checks for every row of the registry (float64, rel. error <= 1e-6)."""
import importlib
import inspect
import pkgutil

import numpy as np
import pytest

import refimpl
from refimpl.core import gradcheck, layers
from registry import REGISTRY

TOL = 1e-6


@pytest.mark.parametrize("row", REGISTRY, ids=lambda r: r.name)
@pytest.mark.parametrize("seed", [0, 1])
def test_backward_matches_finite_differences(row, seed):
    rng = np.random.default_rng(seed)
    errors = gradcheck.check_layer_gradients(row.forward, row.backward, row.make_inputs(rng), row.wrt, rng)
    assert errors, "no gradient was checked"
    worst = max(errors, key=errors.get)
    assert errors[worst] <= TOL, f"{row.name}: d/d{worst} relative error {errors[worst]:.2e} > {TOL}"


def test_gradcheck_catches_a_wrong_backward():
    """The checker itself must fail on a backward that is off by a factor."""
    rng = np.random.default_rng(0)
    inputs = {"x": rng.normal(size=(3, 4))}
    wrong = lambda dout, cache: 1.01 * layers.tanh_backward(dout, cache)
    errors = gradcheck.check_layer_gradients(layers.tanh_forward, wrong, inputs, ("x",), rng)
    assert errors["x"] > TOL


def test_registry_is_complete():
    """Every *_backward in every refimpl module appears in at least one registry row."""
    covered_names = {row.covered for row in REGISTRY}
    missing = []
    modules = [importlib.import_module(m.name) for m in pkgutil.walk_packages(refimpl.__path__, "refimpl.")
               if not m.ispkg]
    assert len(modules) > 20, "walk_packages found too few modules: is the layout importable?"
    for module in modules:
        for name, fn in inspect.getmembers(module, inspect.isfunction):
            if name.endswith("_backward") and fn.__module__ == module.__name__ and name not in covered_names:
                missing.append(f"{module.__name__}.{name}")
    assert not missing, f"add a registry row for: {missing}"
