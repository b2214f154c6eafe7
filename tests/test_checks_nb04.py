"""The checks of exercises/04_schnet.ipynb accept the reference and reject typical wrong answers."""
from types import SimpleNamespace

import numpy as np
import pytest

from refimpl.simulation import md
from refimpl.nn import cutoffs, radial
from refimpl.models import schnet
from coursework.checks import exercises_for, run_check
from coursework.checks import nb04_schnet as nb04

CHECKS = {(c.exercise, c.name): c for ex in exercises_for("04_schnet") for c in ex.checks}


def failing(exercise, namespace, hidden=False):
    """Names of the public checks of ``exercise`` (with hidden=True: of all its checks) that fail on
    ``namespace`` (a dict of functions)."""
    return {name for (ex, name), c in CHECKS.items()
            if ex == exercise and (c.public or hidden) and not run_check(c, namespace).passed}


REFERENCE = {
    "gaussian_rbf_forward": radial.gaussian_rbf_forward, "gaussian_rbf_backward": radial.gaussian_rbf_backward,
    "cosine_cutoff_forward": cutoffs.cosine_cutoff_forward, "cosine_cutoff_backward": cutoffs.cosine_cutoff_backward,
    "cfconv_forward": schnet.cfconv_forward, "cfconv_backward": schnet.cfconv_backward,
    "velocity_verlet_step": md.velocity_verlet_step,
}


def tiny_reference(pos, h0, edge_index, W_filter, W_in2f, w_out, n_rbf, cutoff):
    E, cache = nb04.tiny_schnet_energy(pos, h0, edge_index, W_filter, W_in2f, w_out, n_rbf, cutoff)
    return E, nb04.tiny_schnet_forces(cache)


def test_reference_passes_every_check():
    ns = dict(REFERENCE, tiny_schnet_energy_and_forces=tiny_reference)
    for ex in ("radial_basis", "cfconv", "schnet_forces", "velocity_verlet"):
        assert failing(ex, ns, hidden=True) == set(), ex


def test_reference_tiny_forces_match_finite_differences():
    rng = np.random.default_rng(0)
    x = nb04._forces_inputs(rng)
    args = nb04._forces_args(x)
    E, F = tiny_reference(*args)
    pos, fd = x["pos"], np.zeros_like(x["pos"])
    for k in np.ndindex(pos.shape):
        step = np.zeros_like(pos)
        step[k] = 1e-5
        fd[k] = -(tiny_reference(*nb04._forces_args(x, pos + step))[0]
                  - tiny_reference(*nb04._forces_args(x, pos - step))[0]) / 2e-5
    assert np.abs(F).max() > 0.1 and np.abs(F - fd).max() < 1e-6 * np.abs(F).max()
    assert x["edge_index"].shape[1] < 30                       # some pairs lie beyond the cutoff


def rbf_without_half(d, n_rbf, cutoff):
    mu = np.linspace(0.0, cutoff, n_rbf)
    sigma = mu[1] - mu[0]
    e = np.exp(-((d[:, None] - mu) / sigma) ** 2)
    return e, (d[:, None] - mu, e, sigma)


def cutoff_not_zero_outside(d, cutoff):
    return 0.5 * (np.cos(np.pi * d / cutoff) + 1.0), (d, cutoff)


def cutoff_backward_everywhere(df, cache):
    d, cutoff, _ = cache
    return df * (-0.5 * np.pi / cutoff * np.sin(np.pi * d / cutoff))


def cfconv_gathers_from_target(x, W_ij, edge_index, W_in2f):
    return schnet.cfconv_forward(x, W_ij, edge_index[::-1], W_in2f)


def cfconv_backward_without_filter(dy, cache):
    dx, dW_ij, dW_in2f = schnet.cfconv_backward(dy, cache)
    return dx, dW_ij, dW_in2f * 0.5


def forces_wrong_sign(*args):
    E, F = tiny_reference(*args)
    return E, -F


def forces_without_cutoff_derivative(pos, h0, edge_index, W_filter, W_in2f, w_out, n_rbf, cutoff):
    E, cache = nb04.tiny_schnet_energy(pos, h0, edge_index, W_filter, W_in2f, w_out, n_rbf, cutoff)
    c_r, c_d, c_e, c_f, c_y, a, fc, W_filter, w_out, n = cache
    _, dW_ij, _ = schnet.cfconv_backward(np.tile(w_out, (n, 1)), c_y)
    dd = radial.gaussian_rbf_backward((dW_ij * fc[:, None]) @ W_filter.T, c_e)
    from refimpl import geometry as geo
    return E, -geo.displacement_backward(geo.distance_backward(dd, c_d), c_r)


def verlet_no_units(pos, vel, forces, masses, dt, force_fn):
    vel_half = vel + 0.5 * dt * forces / masses[:, None]
    pos = pos + dt * vel_half
    f = force_fn(pos)
    return pos, vel_half + 0.5 * dt * f / masses[:, None], f


def verlet_euler(pos, vel, forces, masses, dt, force_fn):
    acc = forces * md.EV_PER_AMU_A_TO_A_PER_FS2 / masses[:, None]
    new_pos = pos + dt * vel
    return new_pos, vel + dt * acc, force_fn(new_pos)


def verlet_two_calls(pos, vel, forces, masses, dt, force_fn):
    return md.velocity_verlet_step(pos, vel, force_fn(pos), masses, dt, force_fn)


def verlet_in_place(pos, vel, forces, masses, dt, force_fn):
    c = md.EV_PER_AMU_A_TO_A_PER_FS2 / masses[:, None]
    vel += 0.5 * dt * forces * c
    pos += dt * vel
    f = force_fn(pos)
    vel += 0.5 * dt * f * c
    return pos, vel, f


@pytest.mark.parametrize("exercise, wrong, expected", [
    ("radial_basis", {"gaussian_rbf_forward": rbf_without_half},        # its cache feeds the backward too
     {"gaussian_rbf forward matches the reference", "gaussian_rbf backward matches the reference"}),
    ("radial_basis", {"cosine_cutoff_forward": cutoff_not_zero_outside,
                      "cosine_cutoff_backward": lambda df, c: cutoff_backward_everywhere(df, c + (None,))},
     {"cosine_cutoff forward matches the reference (0 at and beyond r_c)", "cosine_cutoff backward matches the reference"}),
    ("radial_basis", {"cosine_cutoff_backward": cutoff_backward_everywhere}, {"cosine_cutoff backward matches the reference"}),
    ("cfconv", {"cfconv_forward": cfconv_gathers_from_target}, None),
    ("cfconv", {"cfconv_backward": cfconv_backward_without_filter},
     {"backward matches the reference (dx, dW_ij, dW_in2f)"}),
    ("schnet_forces", {"tiny_schnet_energy_and_forces": forces_wrong_sign},
     {"forces match the reference backward pass", "forces match finite differences of the energy"}),
    ("schnet_forces", {"tiny_schnet_energy_and_forces": forces_without_cutoff_derivative},
     {"forces match the reference backward pass", "forces match finite differences of the energy"}),
    ("velocity_verlet", {"velocity_verlet_step": verlet_no_units}, None),
    ("velocity_verlet", {"velocity_verlet_step": verlet_euler}, None),
    ("velocity_verlet", {"velocity_verlet_step": verlet_two_calls},
     {"force_fn is called once, at the new positions; inputs untouched"}),
    ("velocity_verlet", {"velocity_verlet_step": verlet_in_place},
     {"force_fn is called once, at the new positions; inputs untouched"}),
])
def test_checks_reject_wrong_answers(exercise, wrong, expected):
    ns = {**REFERENCE, "tiny_schnet_energy_and_forces": tiny_reference, **wrong}
    failed = failing(exercise, ns)
    if expected is None:
        assert len(failed) >= 2, failed           # wrong from the first step on: several checks fail
    else:
        assert failed == expected


def test_unit_factor_mistake_is_named():
    c = CHECKS[("velocity_verlet", "one step matches the reference")]
    result = run_check(c, dict(REFERENCE, velocity_verlet_step=verlet_no_units))
    assert not result.passed and "unit factor" in result.message


def test_verlet_energy_check_tolerates_the_reference():
    rng = np.random.default_rng(nb04.VERLET.checks[2].seed)
    x = nb04._verlet_inputs(rng)
    E = nb04._verlet_run_energy(SimpleNamespace(**REFERENCE), x)["total"]
    assert np.ptp(E) < 0.5 * 0.02 * E[0]          # a real margin below the check's 2 %


def rbf_backward_in_place(de, cache):
    diff, e, sigma = cache
    de *= e * diff
    return np.sum(de, axis=1) * (-1.0 / sigma**2)


def tiny_forces_six_atoms(pos, *args):
    """Sizes hard-coded to the public check's 6 atoms."""
    E, F = tiny_reference(pos, *args)
    return E, F if len(pos) == 6 else np.zeros_like(F)


@pytest.mark.parametrize("exercise, wrong", [
    ("radial_basis", {"gaussian_rbf_backward": rbf_backward_in_place}),
    ("schnet_forces", {"tiny_schnet_energy_and_forces": tiny_forces_six_atoms}),
])
def test_hidden_checks_catch_what_the_public_ones_miss(exercise, wrong):
    ns = {**REFERENCE, "tiny_schnet_energy_and_forces": tiny_reference, **wrong}
    hidden = {n for (ex, n), c in CHECKS.items() if ex == exercise and not c.public}
    assert failing(exercise, ns) == set() and failing(exercise, ns, hidden=True) == hidden
