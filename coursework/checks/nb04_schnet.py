"""Checks for exercises/04_schnet.ipynb: radial basis and cutoff, continuous-filter convolution,
forces of a tiny SchNet from its backward pass, one velocity-Verlet step."""
import numpy as np

from refimpl import geometry as geo
from refimpl.simulation import md
from refimpl.nn import cutoffs, radial
from refimpl.models import schnet
from coursework.checks.core import CheckFailed, exercise, expect_array, expect_tuple, scalar, student_function
from coursework.checks.hidden import after, expect_unchanged
from coursework.checks.questions import question

NOTEBOOK = "04_schnet"



def _pair(student, fwd_name, args, dout=None, bwd_name=None):
    """Call a student's forward (and its backward on ``dout``); return plain outputs."""
    out, cache = expect_tuple(f"{fwd_name}(...)", student_function(student, fwd_name)(*args), 2)
    if bwd_name is None:
        return {"out": out}
    return {"out": out, "grads": student_function(student, bwd_name)(dout, cache)}


# ----------------------------------------------------------------------------- radial basis and cutoff
RADIAL = exercise(
    "radial_basis", NOTEBOOK,
    ("gaussian_rbf_forward", "gaussian_rbf_backward", "cosine_cutoff_forward", "cosine_cutoff_backward"),
    points=3, title="Gaussian radial basis and cosine cutoff, forward and backward",
    reference=("refimpl.nn.radial.gaussian_rbf_forward", "refimpl.nn.radial.gaussian_rbf_backward",
               "refimpl.nn.cutoffs.cosine_cutoff_forward", "refimpl.nn.cutoffs.cosine_cutoff_backward"))


def _radial_inputs(rng, cutoff=4.0, n_rbf=7, n=10):
    d = np.concatenate([rng.uniform(0.3, cutoff, size=n), [0.0, cutoff, cutoff + 0.7]])   # 0, the cutoff, beyond
    return {"d": d, "n_rbf": np.array([n_rbf]), "cutoff": np.array([cutoff]),
            "de": rng.normal(size=(d.size, n_rbf)), "df": rng.normal(size=d.size)}


def _rbf_run(student, x):
    res = _pair(student, "gaussian_rbf_forward", (x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"]))),
                x["de"], "gaussian_rbf_backward")
    return {"e": res["out"], "dd": res["grads"]}


def _rbf_verify_forward(x, got):
    want, _ = radial.gaussian_rbf_forward(x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"])))
    expect_array("gaussian_rbf_forward(d, 7, 4.0)[0] (13 distances, 7 Gaussians)", got["e"], want)


def _rbf_verify_backward(x, got):
    _, cache = radial.gaussian_rbf_forward(x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"])))
    expect_array("gaussian_rbf_backward(de, cache) (gradient w.r.t. d)", got["dd"],
                 radial.gaussian_rbf_backward(x["de"], cache))


def _cut_run(student, x):
    res = _pair(student, "cosine_cutoff_forward", (x["d"], float(scalar(x["cutoff"]))), x["df"],
                "cosine_cutoff_backward")
    return {"f": res["out"], "dd": res["grads"]}


def _cut_verify_forward(x, got):
    want, _ = cutoffs.cosine_cutoff_forward(x["d"], float(scalar(x["cutoff"])))
    f = got["f"]
    if isinstance(f, np.ndarray) and f.shape == want.shape and np.any(f[x["d"] >= scalar(x["cutoff"])] != 0):
        raise CheckFailed("cosine_cutoff_forward: must be exactly 0 for d >= cutoff (the last two distances)")
    expect_array("cosine_cutoff_forward(d, 4.0)[0]", f, want)


def _cut_verify_backward(x, got):
    _, cache = cutoffs.cosine_cutoff_forward(x["d"], float(scalar(x["cutoff"])))
    expect_array("cosine_cutoff_backward(df, cache) (gradient w.r.t. d; 0 beyond the cutoff)", got["dd"],
                 cutoffs.cosine_cutoff_backward(x["df"], cache))


RADIAL.add("gaussian_rbf forward matches the reference", _radial_inputs, _rbf_run, _rbf_verify_forward)
RADIAL.add("gaussian_rbf backward matches the reference", _radial_inputs, _rbf_run, _rbf_verify_backward)
RADIAL.add("cosine_cutoff forward matches the reference (0 at and beyond r_c)", _radial_inputs, _cut_run,
           _cut_verify_forward)
RADIAL.add("cosine_cutoff backward matches the reference", _radial_inputs, _cut_run, _cut_verify_backward)


# hidden check (the grader's): another number of Gaussians, cutoff and size; d, de and df left unchanged
def _radial_other_inputs(rng):
    return _radial_inputs(rng, cutoff=2.5, n_rbf=4, n=17)


def _radial_other_run(student, x):
    args = (x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"])))
    rbf = _pair(student, "gaussian_rbf_forward", args, x["de"], "gaussian_rbf_backward")
    cut = _pair(student, "cosine_cutoff_forward", args[::2], x["df"], "cosine_cutoff_backward")
    return {"e": rbf["out"], "dd": rbf["grads"], "f": cut["out"], "dd_cut": cut["grads"], **after(x, "d", "de", "df")}


def _radial_other_verify(x, got):
    expect_unchanged("the radial basis and cutoff, forward and backward", x, got, "d", "de", "df")
    d, K, rc = x["d"], int(scalar(x["n_rbf"])), float(scalar(x["cutoff"]))
    want, cache = radial.gaussian_rbf_forward(d, K, rc)
    expect_array(f"gaussian_rbf_forward(d, {K}, {rc}) ({d.size} distances)", got["e"], want)
    expect_array(f"gaussian_rbf_backward for {K} Gaussians", got["dd"], radial.gaussian_rbf_backward(x["de"], cache))
    want, cache = cutoffs.cosine_cutoff_forward(d, rc)
    expect_array(f"cosine_cutoff_forward(d, {rc})", got["f"], want)
    expect_array(f"cosine_cutoff_backward with cutoff {rc}", got["dd_cut"], cutoffs.cosine_cutoff_backward(x["df"], cache))


RADIAL.add("another number of Gaussians (4), cutoff (2.5 A) and size; inputs left unchanged", _radial_other_inputs,
           _radial_other_run, _radial_other_verify, public=False)


# ----------------------------------------------------------------------------- cfconv
CFCONV = exercise(
    "cfconv", NOTEBOOK, ("cfconv_forward", "cfconv_backward"), points=4,
    title="The continuous-filter convolution, forward and backward",
    reference=("refimpl.models.schnet.cfconv_forward", "refimpl.models.schnet.cfconv_backward"))


def _cfconv_inputs(rng, n=7, e=18, F=4, Ff=5):
    edge_index = rng.integers(0, n - 1, size=(2, e))            # atom n-1 receives and sends nothing
    edge_index[:, :3] = [[0, 0, 0], [1, 1, 1]]                   # a repeated edge: its messages add up
    return {"x": rng.normal(size=(n, F)), "W_ij": rng.normal(size=(e, Ff)), "edge_index": edge_index,
            "W_in2f": rng.normal(size=(F, Ff)), "dy": rng.normal(size=(n, Ff))}


def _cfconv_args(x):
    return x["x"], x["W_ij"], x["edge_index"], x["W_in2f"]


def _cfconv_run(student, x):
    res = _pair(student, "cfconv_forward", _cfconv_args(x), x["dy"], "cfconv_backward")
    grads = expect_tuple("cfconv_backward(dy, cache)", res["grads"], 3)
    return {"y": res["out"], **dict(zip(("dx", "dW_ij", "dW_in2f"), grads))}


def _cfconv_verify_forward(x, got):
    want, _ = schnet.cfconv_forward(*_cfconv_args(x))
    expect_array("cfconv_forward(x, W_ij, edge_index, W_in2f)[0] (7 atoms, atom 6 has no edges)", got["y"], want)


def _cfconv_verify_backward(x, got):
    _, cache = schnet.cfconv_forward(*_cfconv_args(x))
    for name, want in zip(("dx", "dW_ij", "dW_in2f"), schnet.cfconv_backward(x["dy"], cache)):
        expect_array(f"cfconv_backward: {name}", got[name], want)


def _cfconv_perm_inputs(rng):
    return {**_cfconv_inputs(rng), "perm": rng.permutation(7)}


def _cfconv_run_perm(student, x):
    inv = np.argsort(x["perm"])
    args = (x["x"][x["perm"]], x["W_ij"], inv[x["edge_index"]], x["W_in2f"])
    return {"y_perm": _pair(student, "cfconv_forward", args)["out"]}


def _cfconv_verify_perm(x, got):
    want, _ = schnet.cfconv_forward(*_cfconv_args(x))
    expect_array("cfconv_forward on renumbered atoms (must equal the renumbered output)", got["y_perm"],
                 want[x["perm"]])


CFCONV.add("forward matches the reference", _cfconv_inputs, _cfconv_run, _cfconv_verify_forward)
CFCONV.add("backward matches the reference (dx, dW_ij, dW_in2f)", _cfconv_inputs, _cfconv_run,
           _cfconv_verify_backward)
CFCONV.add("renumbering the atoms renumbers the output", _cfconv_perm_inputs, _cfconv_run_perm,
           _cfconv_verify_perm)


# hidden check (the grader's): other sizes (F != Ff the other way round); inputs left unchanged
def _cfconv_other_inputs(rng):
    return _cfconv_inputs(rng, n=10, e=25, F=6, Ff=2)


def _cfconv_other_run(student, x):
    return {**_cfconv_run(student, x), **after(x, "x", "W_ij", "edge_index", "W_in2f", "dy")}


def _cfconv_other_verify(x, got):
    expect_unchanged("cfconv_forward / cfconv_backward", x, got, "x", "W_ij", "edge_index", "W_in2f", "dy")
    _cfconv_verify_forward(x, got)
    _cfconv_verify_backward(x, got)


CFCONV.add("other sizes (10 atoms, 6 features, 2 filters); inputs left unchanged", _cfconv_other_inputs,
           _cfconv_other_run, _cfconv_other_verify, public=False)


# ----------------------------------------------------------------------------- forces of a tiny SchNet
FORCES = exercise(
    "schnet_forces", NOTEBOOK, ("tiny_schnet_energy_and_forces",), points=5,
    title="Forces = -dE/dpos of a tiny SchNet from its backward pass",
    reference=("refimpl.nn.radial.gaussian_rbf_forward", "refimpl.nn.radial.gaussian_rbf_backward",
               "refimpl.nn.cutoffs.cosine_cutoff_forward", "refimpl.nn.cutoffs.cosine_cutoff_backward",
               "refimpl.models.schnet.cfconv_forward", "refimpl.models.schnet.cfconv_backward"))


def tiny_schnet_energy(pos, h0, edge_index, W_filter, W_in2f, w_out, n_rbf, cutoff):
    """Reference energy of the exercise's tiny SchNet (refimpl pieces), and its cache for the forces.

    E = sum_i y_i . w_out, y = cfconv(h0, W_ij, edge_index, W_in2f), W_ij = (e(d_ij) W_filter) f_cut(d_ij).
    """
    r, c_r = geo.displacement_forward(pos, edge_index)
    d, c_d = geo.distance_forward(r)
    e, c_e = radial.gaussian_rbf_forward(d, n_rbf, cutoff)
    fc, c_f = cutoffs.cosine_cutoff_forward(d, cutoff)
    a = e @ W_filter
    y, c_y = schnet.cfconv_forward(h0, a * fc[:, None], edge_index, W_in2f)
    return float(np.sum(y @ w_out)), (c_r, c_d, c_e, c_f, c_y, a, fc, W_filter, w_out, y.shape[0])


def tiny_schnet_forces(cache):
    """Reference forces -dE/dpos (N, 3) from the cache of ``tiny_schnet_energy``."""
    c_r, c_d, c_e, c_f, c_y, a, fc, W_filter, w_out, n = cache
    _, dW_ij, _ = schnet.cfconv_backward(np.tile(w_out, (n, 1)), c_y)
    dd = (radial.gaussian_rbf_backward((dW_ij * fc[:, None]) @ W_filter.T, c_e)
          + cutoffs.cosine_cutoff_backward(np.sum(dW_ij * a, axis=1), c_f))
    return -geo.displacement_backward(geo.distance_backward(dd, c_d), c_r)


def _forces_inputs(rng, n=6, F=4, K=5, cutoff=3.0, spread=1.2):
    pos = rng.uniform(0.0, 2.6, size=(n, 3))
    pos[np.arange(n), np.arange(n) % 3] += spread * np.arange(n)  # spread out: some pairs beyond the cutoff
    i, j = np.nonzero((np.linalg.norm(pos[:, None] - pos[None], axis=-1) < cutoff) & ~np.eye(n, dtype=bool))
    return {"pos": pos, "h0": rng.normal(size=(n, F)), "edge_index": np.stack([j, i]),
            "W_filter": rng.normal(size=(K, F)), "W_in2f": rng.normal(size=(F, F)), "w_out": rng.normal(size=F),
            "n_rbf": np.array([K]), "cutoff": np.array([cutoff])}


def _forces_args(x, pos=None):
    return (x["pos"] if pos is None else pos, x["h0"], x["edge_index"], x["W_filter"], x["W_in2f"], x["w_out"],
            int(scalar(x["n_rbf"])), float(scalar(x["cutoff"])))


def _forces_run(student, x):
    fn = student_function(student, "tiny_schnet_energy_and_forces")
    E, F = expect_tuple("tiny_schnet_energy_and_forces(...)", fn(*_forces_args(x)), 2)
    try:
        E = np.array([float(E)])
    except (TypeError, ValueError):
        raise CheckFailed(f"tiny_schnet_energy_and_forces: the energy must be one number, got {type(E).__name__}")
    return {"E": E, "F": F}


def _forces_verify_energy(x, got):
    want, _ = tiny_schnet_energy(*_forces_args(x))
    expect_array("tiny_schnet_energy_and_forces(...)[0] (the energy, eV)", got["E"], np.array([want]))


def _forces_verify_reference(x, got):
    _, cache = tiny_schnet_energy(*_forces_args(x))
    expect_array("tiny_schnet_energy_and_forces(...)[1] (forces -dE/dpos, shape (6, 3))", got["F"],
                 tiny_schnet_forces(cache))


def _forces_verify_fd(x, got):
    pos, h = x["pos"], 1e-5
    fd = np.zeros_like(pos)
    for k in np.ndindex(pos.shape):                       # 36 pairs of energies: a check, not a hot path
        step = np.zeros_like(pos)
        step[k] = h
        fd[k] = -(tiny_schnet_energy(*_forces_args(x, pos + step))[0]
                  - tiny_schnet_energy(*_forces_args(x, pos - step))[0]) / (2 * h)
    expect_array("your forces against central finite differences of the energy (step 1e-5 A)", got["F"], fd,
                 rtol=1e-5, atol=1e-7)


def _forces_verify_newton(x, got):
    F = got["F"]
    if isinstance(F, np.ndarray) and F.shape == x["pos"].shape and F.dtype == np.float64:
        net = np.abs(F.sum(axis=0)).max()
        if net > 1e-9 * max(np.abs(F).max(), 1.0):
            raise CheckFailed(f"the forces must sum to zero (the energy does not change when the molecule moves "
                              f"as a whole), but their sum is {F.sum(axis=0)}")
        return
    expect_array("tiny_schnet_energy_and_forces(...)[1]", F, np.zeros_like(x["pos"]), atol=np.inf)


FORCES.add("energy matches the reference", _forces_inputs, _forces_run, _forces_verify_energy)
FORCES.add("forces match the reference backward pass", _forces_inputs, _forces_run, _forces_verify_reference)
FORCES.add("forces match finite differences of the energy", _forces_inputs, _forces_run, _forces_verify_fd)
FORCES.add("forces sum to zero (translation invariance)", _forces_inputs, _forces_run, _forces_verify_newton)


# hidden check (the grader's): other sizes and cutoff; inputs left unchanged
def _forces_other_inputs(rng):
    return _forces_inputs(rng, n=9, F=3, K=8, cutoff=2.5, spread=0.4)


FORCE_INPUTS = ("pos", "h0", "edge_index", "W_filter", "W_in2f", "w_out")


def _forces_other_run(student, x):
    return {**_forces_run(student, x), **after(x, *FORCE_INPUTS)}


def _forces_other_verify(x, got):
    expect_unchanged("tiny_schnet_energy_and_forces(...)", x, got, *FORCE_INPUTS)
    want, cache = tiny_schnet_energy(*_forces_args(x))
    expect_array("tiny_schnet_energy_and_forces(...)[0] for 9 atoms, 8 Gaussians, cutoff 2.5 A", got["E"],
                 np.array([want]))
    expect_array("tiny_schnet_energy_and_forces(...)[1] for 9 atoms, 8 Gaussians, cutoff 2.5 A", got["F"],
                 tiny_schnet_forces(cache))


FORCES.add("other sizes (9 atoms, 3 features, 8 Gaussians, cutoff 2.5 A); inputs left unchanged",
           _forces_other_inputs, _forces_other_run, _forces_other_verify, public=False)


# ----------------------------------------------------------------------------- velocity Verlet
VERLET = exercise(
    "velocity_verlet", NOTEBOOK, ("velocity_verlet_step",), points=3,
    title="One velocity-Verlet step in A, eV, amu, fs",
    reference=("refimpl.simulation.md.velocity_verlet_step", "refimpl.simulation.md.run_nve"))


def _springs(x):
    """Harmonic springs to fixed anchors: F = -k (pos - anchor), k (N,) in eV/A^2."""
    k, anchor = x["k"][:, None], x["anchor"]
    return lambda p: -k * (p - anchor)


def _verlet_inputs(rng):
    n = 4
    anchor = rng.normal(size=(n, 3))
    pos = anchor + rng.normal(scale=0.1, size=(n, 3))
    return {"pos": pos, "vel": rng.normal(scale=0.01, size=(n, 3)), "masses": np.array([1.008, 12.011, 15.999, 14.007]),
            "k": rng.uniform(5.0, 30.0, size=n), "anchor": anchor, "dt": np.array([0.5])}


def _verlet_call(student, x, pos, vel, forces, calls):
    springs = _springs(x)

    def force_fn(p):
        calls.append(np.array(p, dtype=np.float64, copy=True))
        return springs(p)

    fn = student_function(student, "velocity_verlet_step")
    return expect_tuple("velocity_verlet_step(...)", fn(pos, vel, forces, x["masses"], float(scalar(x["dt"])),
                                                      force_fn), 3)


def _verlet_run_step(student, x):
    pos, vel = x["pos"].copy(), x["vel"].copy()
    calls = []
    p1, v1, f1 = _verlet_call(student, x, pos, vel, _springs(x)(pos), calls)
    return {"pos": p1, "vel": v1, "forces": f1, "n_calls": np.array([len(calls)]),
            "called_at": np.stack(calls) if calls else np.zeros((0,) + pos.shape),
            "inputs_unchanged": np.array([np.array_equal(pos, x["pos"]) and np.array_equal(vel, x["vel"])])}


def _verlet_reference(x):
    springs = _springs(x)
    return md.velocity_verlet_step(x["pos"], x["vel"], springs(x["pos"]), x["masses"], float(scalar(x["dt"])), springs)


def _verlet_verify_step(x, got):
    pos1, vel1, f1 = _verlet_reference(x)
    springs, c = _springs(x), md.EV_PER_AMU_A_TO_A_PER_FS2
    # the same step without the unit factor: F/m taken as if it were already in A/fs^2
    no_units = md.velocity_verlet_step(x["pos"], x["vel"], springs(x["pos"]), x["masses"] * c,
                                       float(scalar(x["dt"])), springs)[0]
    p = got["pos"]
    if isinstance(p, np.ndarray) and p.shape == no_units.shape and np.allclose(p, no_units, rtol=1e-6, atol=0):
        raise CheckFailed("velocity_verlet_step: the step is off by the unit factor; F/m in eV/(amu A) must be "
                          "multiplied by EV_PER_AMU_A_TO_A_PER_FS2 to become an acceleration in A/fs^2")
    expect_array("velocity_verlet_step(...)[0] (new positions, A)", p, pos1)
    expect_array("velocity_verlet_step(...)[1] (new velocities, A/fs)", got["vel"], vel1)
    expect_array("velocity_verlet_step(...)[2] (forces at the new positions, eV/A)", got["forces"], f1)


def _verlet_verify_calls(x, got):
    n = int(scalar(got["n_calls"]))
    if n != 1:
        raise CheckFailed(f"velocity_verlet_step: force_fn must be called exactly once per step (at the new "
                          f"positions; the forces at the old ones are given), it was called {n} times")
    expect_array("the positions passed to force_fn (must be the new positions)", got["called_at"][0],
                 _verlet_reference(x)[0])
    if not bool(scalar(got["inputs_unchanged"])):
        raise CheckFailed("velocity_verlet_step: pos or vel was modified in place; return new arrays instead")


def _verlet_run_energy(student, x):
    pos, vel, forces = x["pos"].copy(), x["vel"].copy(), _springs(x)(x["pos"])
    c = md.EV_PER_AMU_A_TO_A_PER_FS2
    energy = []
    with np.errstate(over="ignore", invalid="ignore"):    # an unstable integrator may overflow: verify says so
        for _ in range(400):                              # 400 steps of 0.5 fs: several periods of every spring
            potential = 0.5 * np.sum(x["k"][:, None] * (pos - x["anchor"]) ** 2)
            kinetic = 0.5 * np.sum(x["masses"][:, None] * vel**2) / c
            energy.append(potential + kinetic)
            pos, vel, forces = _verlet_call(student, x, pos, vel, forces, [])
    return {"total": np.array(energy, dtype=np.float64)}


def _verlet_verify_energy(x, got):
    E = got["total"]
    expect_array("total energy along your trajectory", E, np.zeros(400), atol=np.inf)
    if np.ptp(E) > 0.02 * E[0]:
        raise CheckFailed(f"the total energy of 400 steps on harmonic springs changed by {np.ptp(E):.3g} eV "
                          f"(from {E[0]:.3g} eV); velocity Verlet keeps it within about 1%")


VERLET.add("one step matches the reference", _verlet_inputs, _verlet_run_step, _verlet_verify_step)
VERLET.add("force_fn is called once, at the new positions; inputs untouched", _verlet_inputs, _verlet_run_step,
           _verlet_verify_calls)
VERLET.add("energy is conserved over 400 steps", _verlet_inputs, _verlet_run_energy, _verlet_verify_energy)



# hidden check (the grader's): another number of atoms, masses and time step
def _verlet_other_inputs(rng):
    n = 7
    anchor = rng.normal(size=(n, 3))
    return {"pos": anchor + rng.normal(scale=0.1, size=(n, 3)), "vel": rng.normal(scale=0.02, size=(n, 3)),
            "masses": rng.uniform(1.0, 40.0, size=n), "k": rng.uniform(5.0, 30.0, size=n), "anchor": anchor,
            "dt": np.array([0.2])}


def _verlet_other_verify(x, got):
    _verlet_verify_calls(x, got)
    _verlet_verify_step(x, got)


VERLET.add("7 atoms of other masses, a time step of 0.2 fs", _verlet_other_inputs, _verlet_run_step,
           _verlet_other_verify, public=False)


# ----------------------------------------------------------------------------- predict, then run
question("q_verlet_dt", NOTEBOOK, "prediction_verlet_dt", "abcd", "fb2f3c9786a7590e",
         title="Predict, then run: the energy wiggle of velocity Verlet when the time step doubles")
