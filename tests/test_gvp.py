"""GVP blocks (refimpl.models.gvp): O(3) equivariance of every block, the reference's choices (scalars
first in the concat, the gate from the pre-activation scalars, the norm clamp) against a direct
transcription of gvp-pytorch's forward, and bad input. Gradients: tests/registry.py rows gvp_*."""
import numpy as np
import pytest

from refimpl.geometry import random_improper, random_rotation
from refimpl.models import gvp
from registry import _conv_inputs

RNG = np.random.default_rng(0)


def _sigmoid(x):
    return 1 / (1 + np.exp(-x))


def reference_gvp(s, V, p, gate, scalar_act=True):
    """gvp-pytorch's GVP.forward written out in its own layout: torch weights (out, in), vectors moved
    to (N, 3, C) before the channel mixing, _norm_no_nan = sqrt(clamp(sum x^2, 1e-8))."""
    wh, ws, wv = p["wh.W"].T, p["ws.W"].T, p["wv.W"].T
    v = np.transpose(V, (0, 2, 1))                      # (N, 3, C)
    vh = v @ wh.T                                       # self.wh(v)
    vn = np.sqrt(np.maximum(np.sum(vh**2, axis=-2), 1e-8))
    s_out = np.concatenate([s, vn], -1) @ ws.T + p["ws.b"]
    v_out = np.transpose(vh @ wv.T, (0, 2, 1))          # back to (N, C, 3)
    if gate:
        v_out = v_out * _sigmoid(_sigmoid(s_out) @ p["wsv.W"] + p["wsv.b"])[..., None]
    else:
        v_out = v_out * _sigmoid(np.sqrt(np.maximum(np.sum(v_out**2, -1, keepdims=True), 1e-8)))
    return (np.maximum(s_out, 0) if scalar_act else s_out), v_out


def _inputs(gate, rng=RNG, dims_in=(4, 3), dims_out=(5, 2)):
    p = gvp.init_gvp(rng, dims_in, dims_out, gate)
    p = {k: v + 0.3 * rng.normal(size=v.shape) for k, v in p.items()}
    return rng.normal(size=(6, dims_in[0])), rng.normal(size=(6, dims_in[1], 3)), p


@pytest.mark.parametrize("gate", [True, False])
def test_gvp_matches_a_transcription_of_the_reference(gate):
    s, V, p = _inputs(gate)
    (s_out, v_out), _ = gvp.gvp_forward(s, V, p, vector_gate=gate)
    s_ref, v_ref = reference_gvp(s, V, p, gate)
    np.testing.assert_allclose(s_out, s_ref, atol=1e-13)
    np.testing.assert_allclose(v_out, v_ref, atol=1e-13)


def test_the_reference_transcription_sees_the_concat_order_and_the_gate_input():
    """Swapping [s, |Vh|] or gating from the post-ReLU scalars changes the output: the test above can fail."""
    s, V, p = _inputs(True)
    swapped = dict(p, **{"ws.W": np.concatenate([p["ws.W"][4:], p["ws.W"][:4]])})
    assert np.abs(gvp.gvp_forward(s, V, swapped, vector_gate=True)[0][0] - reference_gvp(s, V, p, True)[0]).max() > 0.1
    (s_pre, _), _ = gvp.gvp_forward(s, V, p, scalar_act=None, vector_act=None, vector_gate=False)
    (_, v_lin), _ = gvp.gvp_forward(s, V, {k: p[k] for k in ("wh.W", "ws.W", "ws.b", "wv.W")}, None, None)
    post = v_lin * _sigmoid(_sigmoid(np.maximum(s_pre, 0)) @ p["wsv.W"] + p["wsv.b"])[..., None]
    assert np.abs(post - reference_gvp(s, V, p, True)[1]).max() > 1e-3


def _check_equivariant(f, s, V, R, others=()):
    """f(s, V, *others) -> (s', V'); others' vectors (last axis 3) rotate too."""
    s1, V1 = f(s, V, *others)
    rotated = [o @ R.T if np.ndim(o) == 3 else o for o in others]
    s2, V2 = f(s, V @ R.T, *rotated)
    scale = max(np.abs(s1).max(), np.abs(V1).max() if V1.size else 0.0)
    assert np.abs(s2 - s1).max() <= 1e-12 * scale
    assert (np.abs(V2 - V1 @ R.T).max() if V1.size else 0.0) <= 1e-12 * scale


@pytest.mark.parametrize("group", [random_rotation, random_improper])
@pytest.mark.parametrize("clamp", [True, False])
def test_blocks_are_O3_equivariant(group, clamp):
    rng = np.random.default_rng(1)
    R = group(rng)
    s, V, p = _inputs(True, rng)
    _check_equivariant(lambda s, V: gvp.gvp_forward(s, V, p, vector_gate=True, clamp=clamp)[0], s, V, R)
    _check_equivariant(lambda s, V: gvp.gvp_forward(s, V, p, "silu", "sigmoid", False, clamp)[0], s, V, R)
    ln = {k: v + rng.normal(size=v.shape) for k, v in gvp.init_layer_norm(4).items()}
    _check_equivariant(lambda s, V: gvp.layer_norm_forward(s, V, ln, clamp)[0], s, V, R)
    c = _conv_inputs(rng, layer=True)
    pl = {k[2:]: v for k, v in c.items() if k.startswith("p.")}
    for aggr, w in [("mean", None), ("sum", c["edge_weight"])]:
        _check_equivariant(lambda s, V, eV: gvp.gvp_conv_layer_forward(
            s, V, c["edge_index"], c["es"], eV, pl, clamp=clamp, aggr=aggr, edge_weight=w)[0],
            c["s"], c["V"], R, (c["eV"],))


def test_an_elementwise_nonlinearity_on_vectors_is_not_equivariant():
    """The contrast the chapter measures: relu on each vector component breaks rotation equivariance."""
    V, R = RNG.normal(size=(6, 3, 3)), random_rotation(RNG)
    assert np.abs(np.maximum(V @ R.T, 0) - np.maximum(V, 0) @ R.T).max() > 0.1


def test_clamped_norm_has_zero_gradient_below_1e_minus_4_and_the_smooth_one_does_not():
    s, V, p = _inputs(False)
    V = V * 0 + 1e-6                                     # every |W_h V| far below 1e-4
    for clamp, zero in [(True, True), (False, False)]:
        out, cache = gvp.gvp_forward(s, V, p, scalar_act=None, vector_act=None, clamp=clamp)
        _, dV, _ = gvp.gvp_backward((np.ones_like(out[0]), np.zeros_like(out[1])), cache)
        assert (np.abs(dV).max() == 0) == zero


def test_scalars_only_output_and_mean_aggregation():
    s, V, p = _inputs(True, dims_out=(3, 0))
    (s_out, v_out), _ = gvp.gvp_forward(s, V, p, vector_gate=True)
    assert s_out.shape == (6, 3) and v_out.shape == (6, 0, 3)
    c = _conv_inputs(np.random.default_rng(2))
    pc = {k[2:]: v for k, v in c.items() if k.startswith("p.")}
    args = (c["s"], c["V"], c["edge_index"], c["es"], c["eV"], pc)
    (m_mean, _), _ = gvp.gvp_conv_forward(*args, aggr="mean")
    (m_sum, _), _ = gvp.gvp_conv_forward(*args, aggr="sum")
    count = np.bincount(c["edge_index"][1], minlength=5)
    np.testing.assert_allclose(m_mean * np.maximum(count, 1)[:, None], m_sum, atol=1e-12)


# ----------------------------------------------------------------------------- the GVP potential
from refimpl.geometry import symmetry  # noqa: E402
from refimpl.models import base  # noqa: E402
from refimpl.models.gvp_energy import GVPModel  # noqa: E402


def _molecule(rng):
    return np.array([6, 6, 8, 1, 1, 1]), rng.normal(size=(6, 3)) * 1.2


def test_gvp_model_saves_loads_and_rebuilds_from_its_config(tmp_path):
    rng = np.random.default_rng(3)
    Z, pos = _molecule(rng)
    model = GVPModel(node_dims=(6, 3), edge_dims=(5, 2), n_rbf=6, n_layers=2, cutoff=4.0, max_z=10, seed=4,
                     smooth=False)
    model.save(tmp_path / "gvp.npz")
    loaded, _, _ = base.load(tmp_path / "gvp.npz")
    assert loaded.config() == model.config() and not loaded.smooth
    E, F = model.energy_and_forces(Z, pos)
    E2, F2 = loaded.energy_and_forces(Z, pos)
    np.testing.assert_array_equal(E, E2)
    np.testing.assert_array_equal(F, F2)


def test_the_reference_choices_are_O3_invariant_too_but_differ_from_the_smooth_model():
    """smooth=False (ReLU, clamp, mean) keeps the symmetry; only smoothness is lost."""
    rng = np.random.default_rng(5)
    Z, pos = _molecule(rng)
    ref, smooth = (GVPModel(node_dims=(6, 3), n_layers=2, max_z=10, seed=6, smooth=s) for s in (False, True))
    energy = lambda Z, pos: ref.energy_and_forces(Z, pos)[0]
    assert max(symmetry.symmetry_report(energy, Z, pos, rng, trials=2, relative=True).values()) < 1e-10
    assert abs(ref.energy_and_forces(Z, pos)[0][0] - smooth.energy_and_forces(Z, pos)[0][0]) > 1e-6


@pytest.mark.parametrize("kwargs, name", [({"node_dims": (4,)}, "node_dims"), ({"edge_dims": (4, 0)}, "edge_dims"),
                                          ({"n_rbf": 1}, "n_rbf"), ({"avg_neighbors": 0.0}, "avg_neighbors"),
                                          ({"smooth": "yes"}, "smooth"), ({"cutoff": -1.0}, "cutoff")])
def test_gvp_model_rejects_bad_settings(kwargs, name):
    with pytest.raises(ValueError, match=f"^{name}:"):
        GVPModel(**kwargs)
