"""Every model of the model registry, tested from its row alone: symmetry (O(3) with reflections,
translations including 1e4 Angstrom, permutations), forces = finite differences of the energy, the
loss gradient against finite differences, batching, extensivity and degenerate geometry."""
import numpy as np
import pytest

from model_registry import MODEL_ROWS
from refimpl.core.gradcheck import numerical_gradient
from refimpl.geometry import symmetry as sym
from refimpl.models.base import MODELS

ROWS = {r.name: r for r in MODEL_ROWS}
params = pytest.mark.parametrize("row", MODEL_ROWS, ids=lambda r: r.name)


def molecules(rng):
    """Two small molecules (7 and 5 atoms) in one batch, atoms at least 0.8 Angstrom apart."""
    pos = []
    for n in (7, 5):
        x = rng.uniform(-1.6, 1.6, size=(n, 3))
        while np.min(np.linalg.norm(x[:, None] - x[None], axis=-1) + 10 * np.eye(n)) < 0.8:
            x = rng.uniform(-1.6, 1.6, size=(n, 3))
        pos.append(x)
    Z = rng.choice([1, 6, 7, 8], size=12)
    return Z, np.concatenate(pos), np.repeat([0, 1], [7, 5])


def outputs(model):
    """fn(Z, pos, batch) -> array for each output, and the kind of each (energies, forces, vectors)."""
    fns = {"energy": (lambda Z, p, b: model.energy_and_forces(Z, p, b)[0], "invariant"),
           "forces": (lambda Z, p, b: model.energy_and_forces(Z, p, b)[1], "vector")}
    for name, kind in model.OUTPUTS.items():
        if name not in fns:
            fns[name] = (lambda Z, p, b, name=name: model.predict(Z, p, b)[name],
                         "vector" if kind == "atom_vector" else "invariant")
    return fns


def test_every_registered_model_has_a_row():
    import refimpl.models  # noqa: F401
    import pkgutil, importlib
    for m in pkgutil.iter_modules(refimpl.models.__path__):
        importlib.import_module(f"refimpl.models.{m.name}")
    assert set(MODELS) <= set(ROWS), f"add rows to tests/model_registry.py for {sorted(set(MODELS) - set(ROWS))}"


@params
@pytest.mark.parametrize("group", sym.GROUPS)
def test_symmetry(row, group):
    if group == "reflection" and not row.reflections:
        pytest.skip(f"{row.name} is SE(3)-only by design (its row says reflections=False): its own tests check that mirror images differ")
    model, rng = row.make(), np.random.default_rng(3)
    Z, pos, batch = molecules(rng)
    for name, (fn, kind) in outputs(model).items():
        per_atom = name != "energy" and model.OUTPUTS.get(name, "atom_vector") != "graph_scalar"
        if kind == "vector":
            err = sym.equivariance_error(fn, Z, pos, group, rng, trials=3, batch=batch, relative=True)
        else:
            err = sym.invariance_error(fn, Z, pos, group, rng, trials=3, batch=batch, per_atom=per_atom, relative=True)
        assert err < row.tol, f"{row.name}: {name} not {kind} under {group}: relative error {err:.2e}"


@params
def test_far_translation_and_inversion(row):
    """A translation by 1e4 Angstrom (round-off grows with |x|: 1e-10 relative is the bar), and -I."""
    model, rng = row.make(), np.random.default_rng(4)
    Z, pos, batch = molecules(rng)
    E, F = model.energy_and_forces(Z, pos, batch)
    E_t, F_t = model.energy_and_forces(Z, pos + np.array([1e4, -1e4, 1e4]), batch)
    scale = np.abs(F).max()
    assert np.abs(E_t - E).max() < 1e-8 * np.abs(E).max() and np.abs(F_t - F).max() < 1e-7 * scale
    if row.reflections:
        E_i, F_i = model.energy_and_forces(Z, -pos, batch)
        assert np.abs(E_i - E).max() < row.tol * np.abs(E).max()
        assert np.abs(F_i + F).max() < row.tol * scale            # forces are polar: they flip


@params
def test_forces_are_minus_the_energy_gradient(row):
    model = row.make()
    if "forces" in model.OUTPUTS:
        pytest.skip(f"{row.name} predicts forces directly: they need not be a gradient")
    Z, pos, batch = molecules(np.random.default_rng(5))
    _, F = model.energy_and_forces(Z, pos, batch)
    num = numerical_gradient(lambda: model.energy_and_forces(Z, pos, batch)[0].sum(), pos, eps=1e-5)
    np.testing.assert_allclose(F, -num, rtol=0, atol=1e-7 * max(np.abs(F).max(), 1.0))


@params
def test_loss_gradient_matches_finite_differences(row):
    model, rng = row.make(), np.random.default_rng(6)
    Z, pos, batch = molecules(rng)
    data = {"Z": Z, "pos": pos, "batch": batch, "E": rng.normal(size=2), "F": rng.normal(size=pos.shape)}
    loss, grads = model.loss_and_grads(data, 1.0, 5.0)
    assert set(grads) == set(model.params)
    for name in sorted(model.params)[:: max(1, len(model.params) // 6)]:     # about six of the arrays
        p = model.params[name]
        num = numerical_gradient(lambda: model.loss_and_grads(data, 1.0, 5.0)[0], p, eps=1e-6)
        err = np.abs(grads[name] - num).max() / max(np.abs(num).max(), 1e-8)
        assert err < row.loss_tol, f"{row.name}: d loss / d {name}: relative error {err:.2e}"


@params
def test_a_batch_equals_each_molecule_alone(row):
    model = row.make()
    Z, pos, batch = molecules(np.random.default_rng(7))
    E, F = model.energy_and_forces(Z, pos, batch)
    for g in range(2):
        Eg, Fg = model.energy_and_forces(Z[batch == g], pos[batch == g])
        np.testing.assert_allclose(Eg, E[g:g + 1], rtol=1e-12, atol=1e-12)
        np.testing.assert_allclose(Fg, F[batch == g], rtol=1e-10, atol=1e-12)


@params
def test_energy_is_extensive_for_far_apart_copies(row):
    model = row.make()
    Z, pos, batch = molecules(np.random.default_rng(8))
    Z1, pos1 = Z[batch == 0], pos[batch == 0]
    E1, _ = model.energy_and_forces(Z1, pos1)
    E2, _ = model.energy_and_forces(np.concatenate([Z1, Z1]), np.concatenate([pos1, pos1 + 3 * model.cutoff]))
    np.testing.assert_allclose(E2, 2 * E1, rtol=1e-12)


@params
@pytest.mark.parametrize("case", ["coincident", "isolated", "single", "collinear"])
def test_degenerate_geometry_gives_finite_outputs(row, case):
    model = row.make()
    if case == "coincident":
        Z, pos = np.array([6, 8, 1]), np.array([[0.0, 0, 0], [0.0, 0, 0], [1.0, 0.2, 0]])
    elif case == "isolated":
        Z, pos = np.array([6, 8, 1]), np.array([[0.0, 0, 0], [1.2, 0, 0], [50.0, 0, 0]])
    elif case == "single":
        Z, pos = np.array([8]), np.array([[0.3, -0.2, 0.1]])
    else:
        Z, pos = np.array([6, 6, 8, 1]), np.array([[0.0, 0, 0], [1.3, 0, 0], [2.6, 0, 0], [-1.0, 0, 0]])
    for name, value in model.predict(Z, pos).items():
        assert np.all(np.isfinite(value)), f"{row.name}: {name} not finite for {case} atoms"
    E, F = model.energy_and_forces(Z, pos)
    assert np.all(np.isfinite(E)) and np.all(np.isfinite(F))
    if case == "single":
        assert np.abs(F).max() < 1e-12                            # nothing to push against


def test_symmetry_tests_can_fail():
    """A model that breaks rotations (it reads the x coordinate) is caught by the same test."""
    base = ROWS["schnet"].make()

    class Broken(type(base)):
        def forward(self, Z, pos, batch, edge_index, num_graphs):
            out, cache = super().forward(Z, pos, batch, edge_index, num_graphs)
            return {"energy": out["energy"] + np.bincount(batch, weights=pos[:, 0], minlength=num_graphs)}, cache

    broken = Broken(**base.config())
    broken.params = base.params
    Z, pos, batch = molecules(np.random.default_rng(3))
    fn = lambda Z, p, b: broken.predict(Z, p, b)["energy"]
    assert sym.invariance_error(fn, Z, pos, "rotation", np.random.default_rng(0), 3, batch, relative=True) > 1e-3
