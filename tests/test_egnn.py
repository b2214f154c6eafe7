"""EGNN: the layer stack is E(3)-equivariant (positions move as R x + t, features do not move), the sign
and aggregation match the reference's update, and the energy model's specifics (the generic model tests
live in tests/test_models.py, driven by tests/model_registry.py)."""
import numpy as np
import pytest

from refimpl.geometry import random_improper, random_orthogonal, random_rotation, random_translation
from refimpl.models import egnn_layers as egl
from registry import egnn_layer_params

F, H = 4, 5


def _stack(rng, n_layers=3, tanh=False):
    layers = [egnn_layer_params(rng, F, H) for _ in range(n_layers)]

    def run(h, x, edge_index):
        for p in layers:
            (h, x), _ = egl.egnn_layer_forward(h, x, edge_index, p, tanh=tanh)
        return h, x
    return run


def _complete_graph(n):
    j, i = np.nonzero(~np.eye(n, dtype=bool))
    return np.stack([j, i])


@pytest.mark.parametrize("tanh", [False, True])
@pytest.mark.parametrize("group", ["rotation", "reflection"])
def test_layer_stack_positions_move_as_R_x_plus_t(group, tanh):
    rng = np.random.default_rng(0)
    n = 7
    run = _stack(rng, tanh=tanh)
    h, x, ei = rng.normal(size=(n, F)), rng.normal(size=(n, 3)) * 1.5, _complete_graph(n)
    h_out, x_out = run(h, x, ei)
    assert np.abs(x_out - x).max() > 1e-2                     # the coordinates did move
    for _ in range(3):
        R = random_rotation(rng) if group == "rotation" else random_improper(rng)
        t = random_translation(rng, scale=10.0)
        h_g, x_g = run(h, x @ R.T + t, ei)
        np.testing.assert_allclose(x_g, x_out @ R.T + t, rtol=0, atol=1e-10 * (1 + np.abs(x_g).max()))
        np.testing.assert_allclose(h_g, h_out, rtol=0, atol=1e-10 * np.abs(h_out).max())


def test_layer_stack_permutation_equivariant():
    rng = np.random.default_rng(1)
    n = 6
    run = _stack(rng)
    h, x, ei = rng.normal(size=(n, F)), rng.normal(size=(n, 3)), _complete_graph(n)
    perm = rng.permutation(n)
    h_p, x_p = run(h[perm], x[perm], np.argsort(perm)[ei])
    h_out, x_out = run(h, x, ei)
    np.testing.assert_allclose(h_p, h_out[perm], atol=1e-12)
    np.testing.assert_allclose(x_p, x_out[perm], atol=1e-12)


def test_an_equivariance_check_would_catch_a_broken_update():
    """Adding a fixed vector to every update breaks rotation equivariance, and the test's measure sees it."""
    rng = np.random.default_rng(2)
    x = rng.normal(size=(5, 3))
    phi, ei = rng.normal(size=20), _complete_graph(5)
    R = random_orthogonal(rng)
    ok = np.abs(egl.coord_update_forward(x @ R.T, phi, ei)[0] - egl.coord_update_forward(x, phi, ei)[0] @ R.T).max()
    broken = lambda y: egl.coord_update_forward(y, phi, ei)[0] + np.array([0.1, 0.0, 0.0])
    bad = np.abs(broken(x @ R.T) - broken(x) @ R.T).max()
    assert ok < 1e-12 and bad > 1e-3


def test_coord_update_matches_the_reference_form():
    """x_i + mean_j (x_i - x_j) phi_ij, the mean over the edges into i, clamped at one edge."""
    x = np.array([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0], [0.0, 2.0, 0.0], [5.0, 5.0, 5.0]])
    ei = np.array([[1, 2, 0], [0, 0, 1]])              # 1 -> 0, 2 -> 0, 0 -> 1; atoms 2 and 3 receive nothing
    phi = np.array([0.5, -1.0, 2.0])
    out, _ = egl.coord_update_forward(x, phi, ei)
    want = x.copy()
    want[0] += ((x[0] - x[1]) * 0.5 + (x[0] - x[2]) * -1.0) / 2
    want[1] += (x[1] - x[0]) * 2.0
    np.testing.assert_allclose(out, want, atol=1e-15)


def test_coincident_atoms_give_finite_outputs():
    """Squared distances and differences only: a layer at coincident atoms has finite outputs."""
    rng = np.random.default_rng(3)
    run_w = _stack(rng, n_layers=1)
    x = np.zeros((4, 3))
    h, ei = rng.normal(size=(4, F)), _complete_graph(4)
    h_out, x_out = run_w(h, x, ei)
    assert np.all(np.isfinite(h_out)) and np.allclose(x_out, 0.0)


# ----------------------------------------------------------------------------- the energy model
def _model_and_molecule():
    from model_registry import _egnn
    rng = np.random.default_rng(4)
    pos = rng.uniform(-1.2, 1.2, size=(6, 3))
    return _egnn(), np.array([6, 1, 1, 8, 1, 7]), pos


def test_forces_run_through_the_coordinate_updates():
    """The coordinate updates change the energy (so a backward through distances only would be wrong),
    and the forces still equal finite differences of the energy."""
    from refimpl.core.gradcheck import numerical_gradient
    model, Z, pos = _model_and_molecule()
    out = model.predict(Z, pos)
    E, F = model.energy_and_forces(Z, pos)
    frozen = type(model)(**model.config())
    frozen.params = {k: (0.0 * v if k.endswith("coord_mlp.2.W") else v) for k, v in model.params.items()}
    assert np.abs(out["positions_update"]).max() > 0.05
    assert abs(frozen.energy_and_forces(Z, pos)[0][0] - E[0]) > 1e-3 * abs(E[0])
    num = numerical_gradient(lambda: model.energy_and_forces(Z, pos)[0].sum(), pos, eps=1e-5)
    np.testing.assert_allclose(F, -num, rtol=0, atol=1e-7 * np.abs(F).max())


def test_model_positions_move_as_R_x_plus_t():
    """x^0 + positions_update, the model's last positions, move as Q x + t (Q in O(3))."""
    model, Z, pos = _model_and_molecule()
    rng = np.random.default_rng(5)
    last = pos + model.predict(Z, pos)["positions_update"]
    for Q in (random_rotation(rng), random_improper(rng)):
        t = random_translation(rng, scale=100.0)
        moved = pos @ Q.T + t
        np.testing.assert_allclose(moved + model.predict(Z, moved)["positions_update"], last @ Q.T + t,
                                   rtol=0, atol=1e-10 * np.abs(t).max())


def test_parameter_names_follow_egnn_clean():
    from refimpl.models.egnn import EGNN
    names = set(EGNN(n_features=4, n_layers=2, n_rbf=3, max_z=10).params)
    layer = {f"gcl_{t}.{m}.{k}.{w}" for t in range(2) for m in ("edge_mlp", "node_mlp") for k in (0, 2) for w in "Wb"}
    layer |= {f"gcl_{t}.coord_mlp.0.{w}" for t in range(2) for w in "Wb"} | {f"gcl_{t}.coord_mlp.2.W" for t in range(2)}
    assert names == layer | {"embedding", "atomref", "readout.0.W", "readout.0.b", "readout.1.W", "readout.1.b"}


def test_last_coordinate_layer_starts_small():
    """Glorot-uniform with gain 0.001, as egnn_clean's xavier_uniform_(gain=0.001): |w| <= 0.001 sqrt(6 / (F + 1))."""
    from refimpl.models.egnn import EGNN
    model = EGNN(n_features=16, n_layers=2, max_z=10)
    w = model.params["gcl_0.coord_mlp.2.W"]
    assert w.shape == (16, 1) and 0.5e-3 * np.sqrt(6 / 17) < np.abs(w).max() <= 1e-3 * np.sqrt(6 / 17)


def test_bad_arguments_are_named():
    from refimpl.models.egnn import EGNN
    for kwargs, name in [({"n_features": 1}, "n_features"), ({"n_layers": 0}, "n_layers"), ({"cutoff": -1.0}, "cutoff"),
                         ({"tanh": "yes"}, "tanh"), ({"n_rbf": 1}, "n_rbf")]:
        with pytest.raises(ValueError, match=f"^{name}:"):
            EGNN(**kwargs)
    model = EGNN(n_features=4, n_layers=1, max_z=10)
    with pytest.raises(ValueError, match="^doutputs"):
        model.backward({"forces": np.zeros((2, 3))}, model.forward(np.array([1, 6]), np.eye(3)[:2], np.zeros(2, int),
                                                                    np.array([[0, 1], [1, 0]]), 1)[1])
