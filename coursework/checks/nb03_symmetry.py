"""Checks for exercises/03_symmetry.ipynb: random rotations, equivariance errors, radius graphs,
PCA canonicalization and training with data augmentation."""
import numpy as np

from refimpl.symmetrize import canonical
from refimpl.nn import mlp
from refimpl.geometry import radius, symmetry
from refimpl.data import tetris
from refimpl import geometry as geo
from coursework.checks.core import (CheckFailed, exercise, expect_array, expect_edge_index, expect_tuple, scalar,
                                   student_function)
from coursework.checks.hidden import after, expect_unchanged
from coursework.checks.questions import question
from refimpl.core import losses, optim

NOTEBOOK = "03_symmetry"



def _rng_from(x, key="seed"):
    return np.random.default_rng(int(scalar(x[key])))


# ----------------------------------------------------------------------------- random_rotation
ROTATION = exercise(
    "random_rotation", NOTEBOOK, ("random_rotation",), points=3,
    title="A uniformly random rotation matrix",
    reference=("refimpl.geometry.random_rotation",))

NUM_DRAWS = 4000


def _rotation_inputs(rng):
    return {"seed": np.array(int(rng.integers(2**31)))}


def _draws(student, seed, count):
    fn = student_function(student, "random_rotation")
    rng = np.random.default_rng(seed)
    out = [fn(rng) for _ in range(count)]          # one call per draw, as a user would
    for R in out:
        expect_array("random_rotation(rng)", R, np.zeros((3, 3)), atol=np.inf)   # type, shape, dtype, finite
    return np.stack(out)


def _rotation_run_basic(student, x):
    return {"R": _draws(student, int(scalar(x["seed"])), 50)}


def _rotation_verify_basic(x, got):
    R = got["R"]
    err = np.abs(np.einsum("nki,nkj->nij", R, R) - np.eye(3)).max()
    if err > 1e-10:
        raise CheckFailed(f"random_rotation(rng): R^T R differs from the identity by {err:.2g}; "
                          "a rotation matrix must be orthogonal")
    det = np.linalg.det(R)
    if np.any(np.abs(det - 1.0) > 1e-10):
        raise CheckFailed(f"random_rotation(rng): {int(np.sum(np.abs(det - 1) > 1e-10))} of {len(R)} draws have "
                          f"det R != +1 (e.g. {det[np.argmax(np.abs(det - 1))]:.3g}); a reflection (det -1) is "
                          "not a rotation")


def _rotation_run_rng(student, x):
    fn = student_function(student, "random_rotation")
    rng_a, rng_b = np.random.default_rng(int(scalar(x["seed"]))), np.random.default_rng(int(scalar(x["seed"])))
    first_a, first_b, second_a = fn(rng_a), fn(rng_b), fn(rng_a)
    return {"first_a": np.asarray(first_a, dtype=np.float64), "first_b": np.asarray(first_b, dtype=np.float64),
            "second_a": np.asarray(second_a, dtype=np.float64)}


def _rotation_verify_rng(x, got):
    if not np.array_equal(got["first_a"], got["first_b"]):
        raise CheckFailed("random_rotation(rng): two generators with the same seed gave different rotations; "
                          "draw all randomness from the rng argument (no np.random.* global functions)")
    if np.allclose(got["first_a"], got["second_a"]):
        raise CheckFailed("random_rotation(rng): two consecutive calls returned the same matrix; each call "
                          "must draw a new rotation from rng")


def _rotation_run_uniform(student, x):
    return {"R": _draws(student, int(scalar(x["seed"])), NUM_DRAWS)}


def _rotation_verify_uniform(x, got):
    R = got["R"]
    mean = R.mean(axis=0)
    if np.abs(mean).max() > 0.05:
        raise CheckFailed(f"random_rotation: over {NUM_DRAWS} draws the mean matrix should be ~0 (a uniform "
                          f"rotation has no preferred direction), got entries up to {np.abs(mean).max():.3f}")
    second = (R ** 2).mean(axis=0)
    if np.abs(second - 1 / 3).max() > 0.03:
        raise CheckFailed(f"random_rotation: over {NUM_DRAWS} draws E[R_ij^2] should be ~1/3 for every entry, "
                          f"got values from {second.min():.3f} to {second.max():.3f}")
    z = R[:, 2, 2]                                   # z-component of R e_z: uniform on [-1, 1] for Haar R
    frac = np.histogram(z, bins=4, range=(-1.0, 1.0))[0] / len(z)
    if np.abs(frac - 0.25).max() > 0.04:
        raise CheckFailed("random_rotation: R e_z should be uniform on the sphere, so its z-component R[2, 2] "
                          f"is uniform on [-1, 1]; the fractions in four equal bins were {np.round(frac, 3).tolist()} "
                          "instead of ~0.25 each (uniform Euler angles are not uniform rotations)")


ROTATION.add("orthogonal with determinant +1 (50 draws)", _rotation_inputs, _rotation_run_basic,
             _rotation_verify_basic)
ROTATION.add("uses only the rng argument: same seed, same rotation; new call, new rotation", _rotation_inputs,
             _rotation_run_rng, _rotation_verify_rng)
ROTATION.add(f"uniform: mean ~ 0, E[R_ij^2] ~ 1/3, R e_z uniform on the sphere ({NUM_DRAWS} draws)",
             _rotation_inputs, _rotation_run_uniform, _rotation_verify_uniform)


# ----------------------------------------------------------------------------- equivariance_error
EQUIV = exercise(
    "equivariance_error", NOTEBOOK, ("equivariance_error",), points=2,
    title="Measure how far a vector-valued function is from E(3) equivariant",
    reference=("refimpl.geometry.symmetry.equivariance_error", "refimpl.geometry.symmetry.symmetry_report"))


def _equiv_inputs(rng):
    return {"pos": rng.normal(size=(7, 3)), "R": geo.random_rotation(rng), "t": 3.0 * rng.normal(size=3),
            "A": rng.normal(size=(3, 3)), "w": rng.normal(size=7)}


def _centred(p):
    return p - p.mean(axis=0)


def _functions(x):
    """Test functions (N, 3) -> (N, 3): two equivariant, two not."""
    A, w = x["A"], x["w"]
    return {"centred": _centred,                                     # equivariant under E(3)
            "weighted": lambda p: w[:, None] * _centred(p) * np.linalg.norm(_centred(p), axis=1, keepdims=True),
            "positions": lambda p: p,                                # breaks translations
            "linear": lambda p: p @ A.T}                             # breaks rotations and translations


def _equiv_run(student, x):
    fn = student_function(student, "equivariance_error")
    out = {}
    for name, f in _functions(x).items():
        value = fn(f, x["pos"].copy(), x["R"].copy(), x["t"].copy())
        out[name] = np.atleast_1d(np.asarray(value, dtype=np.float64))   # 1-d: 0-d arrays do not cross the grader
        out[name + "_ndim"] = np.array([np.ndim(value)])
    return out


def _reference_error(f, pos, R, t):
    """max |f(g . pos) - g . f(pos)| for g = (R, t), with the group actions of refimpl.geometry.symmetry
    (the ones its equivariance_error and symmetry_report use): positions move as pos R^T + t,
    per-atom vectors rotate as f R^T and ignore t."""
    _, moved = symmetry.act_on_input(None, pos, R=R, t=t)
    expected = symmetry.act_on_output(f(pos), R=R, per_atom=True, vector=True)
    return float(np.abs(f(moved) - expected).max())


def _equiv_verify(x, got):
    pos, R, t = x["pos"], x["R"], x["t"]
    for name, f in _functions(x).items():
        want = _reference_error(f, pos, R, t)
        value, ndim = got[name], int(got[name + "_ndim"][0])
        if ndim != 0 or value.size != 1:
            raise CheckFailed(f"equivariance_error(f, pos, R, t): expected one float (the largest absolute "
                              f"difference), got an array of shape {value.shape}")
        if not np.isclose(float(value[0]), want, rtol=1e-6, atol=1e-10):
            raise CheckFailed(f"equivariance_error for f(pos) = {name}: expected {want:.6g} "
                              f"(= max |f(pos R^T + t) - f(pos) R^T|), got {float(value[0]):.6g}")


EQUIV.add("zero for equivariant functions, max |f(g.x) - g.f(x)| for others", _equiv_inputs, _equiv_run,
          _equiv_verify)


def _equiv_inplace_run(student, x):
    fn = student_function(student, "equivariance_error")
    value = fn(_functions(x)["linear"], x["pos"], x["R"], x["t"])
    return {"value": np.atleast_1d(np.asarray(value, dtype=np.float64)), **after(x, "pos", "R", "t")}


def _equiv_inplace_verify(x, got):
    expect_unchanged("equivariance_error(f, pos, R, t)", x, got, "pos", "R", "t")
    want = _reference_error(_functions(x)["linear"], x["pos"], x["R"], x["t"])
    if got["value"].size != 1 or not np.isclose(float(got["value"][0]), want, rtol=1e-6, atol=1e-10):
        raise CheckFailed(f"equivariance_error for f(pos) = pos @ A.T: expected {want:.6g}, got {got['value']}")


EQUIV.add("pos, R and t are left unchanged", _equiv_inputs, _equiv_inplace_run, _equiv_inplace_verify, public=False)


# ----------------------------------------------------------------------------- radius_graph
RADIUS = exercise(
    "radius_graph", NOTEBOOK, ("radius_graph",), points=3,
    title="The radius graph of a point cloud",
    reference=("refimpl.geometry.radius.radius_graph", "refimpl.geometry.radius.radius_graph_naive", "refimpl.geometry.radius.knn_graph"))


def _edge_set(what, ei, n):
    expect_edge_index(what, ei, n)
    pairs = set(map(tuple, ei.T.tolist()))
    if len(pairs) != ei.shape[1]:
        raise CheckFailed(f"{what}: {ei.shape[1] - len(pairs)} edges appear more than once")
    return pairs


def _expect_same_edges(what, got, want, n):
    have = _edge_set(what, got, n)
    need = set(map(tuple, want.T.tolist()))
    if any(j == i for j, i in have):
        raise CheckFailed(f"{what}: contains self-loops i -> i; an atom is not its own neighbour")
    if any((i, j) not in have for j, i in have):
        raise CheckFailed(f"{what}: some edges j -> i lack their reverse i -> j; list both directions")
    if have != need:
        missing, extra = len(need - have), len(have - need)
        raise CheckFailed(f"{what}: {missing} expected edges missing and {extra} unexpected edges "
                          f"(expected {len(need)} edges, got {len(have)})")


def _radius_inputs(rng):
    return {"pos": rng.uniform(0.0, 6.0, size=(30, 3)), "cutoff": np.array(2.5)}


def _radius_run(student, x):
    return {"edge_index": student_function(student, "radius_graph")(x["pos"], float(scalar(x["cutoff"])))}


def _radius_verify(x, got):
    want = radius.radius_graph(x["pos"], float(scalar(x["cutoff"])))
    _expect_same_edges("radius_graph(pos, 2.5) on 30 random atoms", got["edge_index"], want, len(x["pos"]))


def _edge_case_inputs(rng):
    return {"single": rng.normal(size=(1, 3)), "far": np.array([[0.0, 0, 0], [5.0, 0, 0], [0, 5.0, 0]]),
            "boundary": np.array([[0.0, 0, 0], [1.5, 0, 0], [0.0, 1.0, 0]])}


def _edge_case_run(student, x):
    fn = student_function(student, "radius_graph")
    return {"single": fn(x["single"], 2.0), "far": fn(x["far"], 2.0), "boundary": fn(x["boundary"], 1.5)}


def _edge_case_verify(x, got):
    for key, desc in (("single", "one atom"), ("far", "three atoms 5 A apart, cutoff 2 A")):
        ei = got[key]
        _edge_set(f"radius_graph on {desc}", ei, len(x[key]))
        if ei.shape != (2, 0):
            raise CheckFailed(f"radius_graph on {desc}: expected an empty edge list of shape (2, 0), got {ei.shape}")
    _expect_same_edges("radius_graph with atoms 0 and 1 exactly 1.5 A apart, cutoff 1.5 A (d < cutoff is "
                       "required, so they are not neighbours)", got["boundary"], np.array([[0, 2], [2, 0]]), 3)


RADIUS.add("same edges as the reference (as a set), both directions, no self-loops", _radius_inputs,
           _radius_run, _radius_verify)
RADIUS.add("edge cases: one atom, no pair within the cutoff, a pair exactly at the cutoff", _edge_case_inputs,
           _edge_case_run, _edge_case_verify)


# hidden check (the grader's): distinct atoms at the same place are neighbours (distance 0 < cutoff)
def _coincident_inputs(rng):
    pos = rng.uniform(0.0, 4.0, size=(9, 3))
    pos[5] = pos[2]                                       # two distinct atoms at distance 0
    return {"pos": pos, "pair": np.array([[1.0, 2.0, 3.0], [1.0, 2.0, 3.0]]), "cutoff": np.array(1.8)}


def _coincident_run(student, x):
    fn = student_function(student, "radius_graph")
    return {"edge_index": fn(x["pos"], 1.8), "pair": fn(x["pair"], 1.8), **after(x, "pos", "pair")}


def _coincident_verify(x, got):
    expect_unchanged("radius_graph(pos, cutoff)", x, got, "pos", "pair")
    _expect_same_edges("radius_graph on two atoms at the same position (distinct atoms at distance 0 are "
                       "neighbours: 0 < cutoff)", got["pair"], np.array([[0, 1], [1, 0]]), 2)
    _expect_same_edges("radius_graph(pos, 1.8) on 9 atoms, two of them at the same position", got["edge_index"],
                       radius.radius_graph(x["pos"], 1.8), 9)


RADIUS.add("distinct atoms at the same position are neighbours; pos left unchanged", _coincident_inputs,
           _coincident_run, _coincident_verify, public=False)


# ----------------------------------------------------------------------------- pca_canonicalize
CANON = exercise(
    "pca_canonicalize", NOTEBOOK, ("pca_canonicalize",), points=3,
    title="PCA canonicalization with the third-moment sign rule (SO(3))",
    reference=("refimpl.symmetrize.canonical.canonicalize",))


def _skewed_cloud(rng, n=12):
    """A generic cloud: distinct spreads along three random axes, and skewed (exponential) coordinates."""
    coords = rng.exponential(size=(n, 3)) * np.array([3.0, 2.0, 1.0])
    return coords @ geo.random_rotation(rng).T + rng.normal(size=3)


def _canon_inputs(rng):
    return {"pos": _skewed_cloud(rng), "R": geo.random_rotation(rng), "t": 5.0 * rng.normal(size=3)}


def _canon_call(student, pos):
    out = student_function(student, "pca_canonicalize")(pos.copy())
    return expect_tuple("pca_canonicalize(pos)", out, 2)


def _canon_run(student, x):
    canon, frame = _canon_call(student, x["pos"])
    return {"canonical": canon, "frame": frame}


def _canon_verify(x, got):
    frame = got["frame"]
    expect_array("pca_canonicalize(pos)[1] (the frame)", frame, np.eye(3), atol=np.inf)   # type and shape
    if not np.allclose(frame.T @ frame, np.eye(3), atol=1e-8):
        raise CheckFailed("pca_canonicalize(pos)[1]: the frame must be orthogonal (its columns are unit, "
                          "mutually orthogonal principal axes)")
    if not np.isclose(np.linalg.det(frame), 1.0, atol=1e-8):
        raise CheckFailed(f"pca_canonicalize(pos)[1]: det(frame) = {np.linalg.det(frame):.3g}; the SO(3) rule "
                          "sets e3 = e1 x e2, so the frame is a rotation (det +1)")
    want_canon, want_frame, _ = canonical.canonicalize(x["pos"], group="SO(3)")
    expect_array("pca_canonicalize(pos)[1] (the frame, columns e1, e2, e3)", frame, want_frame, rtol=1e-6, atol=1e-8)
    expect_array("pca_canonicalize(pos)[0] (the canonical positions)", got["canonical"], want_canon,
                 rtol=1e-6, atol=1e-8)


def _canon_run_moved(student, x):
    moved = x["pos"] @ x["R"].T + x["t"]
    mirrored = x["pos"] * np.array([1.0, 1.0, -1.0])
    return {"canonical": _canon_call(student, x["pos"])[0], "moved": _canon_call(student, moved)[0],
            "mirrored": _canon_call(student, mirrored)[0]}


def _canon_verify_moved(x, got):
    want = got["canonical"]
    expect_array("pca_canonicalize(pos)[0]", want, np.zeros(x["pos"].shape), atol=np.inf)
    expect_array("pca_canonicalize(pos @ R.T + t)[0] (must equal pca_canonicalize(pos)[0]: invariance)",
                 got["moved"], want, rtol=1e-6, atol=1e-8)
    expect_array("pca_canonicalize(mirror image z -> -z)[0] (an SO(3) frame keeps chirality: the third "
                 "coordinate changes sign)", got["mirrored"], want * np.array([1.0, 1.0, -1.0]), rtol=1e-6, atol=1e-8)


CANON.add("frame and canonical positions match the reference on a generic cloud", _canon_inputs, _canon_run,
          _canon_verify)
CANON.add("invariant to a rotation and translation; a mirror image keeps its handedness", _canon_inputs,
          _canon_run_moved, _canon_verify_moved)


# hidden check (the grader's): clouds far from the origin (the sign rule must use centred coordinates), other
# sizes; pos left unchanged
FAR = 6


def _canon_far_inputs(rng):
    clouds = {f"pos{k}": _skewed_cloud(rng, n=5 + 3 * k) + 40.0 * geo.random_rotation(rng)[0] for k in range(FAR)}
    return clouds


def _canon_far_run(student, x):
    fn = student_function(student, "pca_canonicalize")
    out = {}
    for k in range(FAR):
        canon, frame = expect_tuple("pca_canonicalize(pos)", fn(x[f"pos{k}"]), 2)
        out.update({f"canonical{k}": canon, f"frame{k}": frame})
    return {**out, **after(x, *(f"pos{k}" for k in range(FAR)))}


def _canon_far_verify(x, got):
    expect_unchanged("pca_canonicalize(pos)", x, got, *(f"pos{k}" for k in range(FAR)))
    for k in range(FAR):
        pos = x[f"pos{k}"]
        want_canon, want_frame, _ = canonical.canonicalize(pos, group="SO(3)")
        where = f"pca_canonicalize on a cloud of {len(pos)} points 40 A from the origin"
        expect_array(f"{where}: the frame (are the third moments taken after centring?)", got[f"frame{k}"],
                     want_frame, rtol=1e-6, atol=1e-8)
        expect_array(f"{where}: the canonical positions", got[f"canonical{k}"], want_canon, rtol=1e-6, atol=1e-8)


CANON.add("clouds of other sizes far from the origin; pos left unchanged", _canon_far_inputs, _canon_far_run,
          _canon_far_verify, public=False)


# ----------------------------------------------------------------------------- predict, then run
question("q_mirror", NOTEBOOK, "prediction_mirror", "abc", "dca78e888a00be9a",
         title="Predict, then run: the canonical pose of a mirror image")


# ----------------------------------------------------------------------------- train_with_augmentation
AUGMENT = exercise(
    "train_with_augmentation", NOTEBOOK, ("train_with_augmentation",), points=4,
    title="Train an MLP on Tetris shapes with random-rotation augmentation",
    reference=())

EPOCHS, COPIES, SIZES, MIN_ACCURACY = 200, 8, (12, 32, 32, 8), 0.8


def _augment_inputs(rng):
    templates, labels, _ = tetris.tetris_shapes()
    params = mlp.init_mlp(rng, list(SIZES))
    return {"X": np.repeat(templates, COPIES, axis=0), "y": np.repeat(labels, COPIES),
            "seed": np.array(int(rng.integers(2**31))), "epochs": np.array(EPOCHS),
            **{f"param_{k}": v for k, v in params.items()}}


def _augment_run(student, x):
    params = {k[len("param_"):]: v.copy() for k, v in x.items() if k.startswith("param_")}
    train = student_function(student, "train_with_augmentation")
    out = train(x["X"], x["y"], params, _rng_from(x), int(scalar(x["epochs"])))
    trained, losses = expect_tuple("train_with_augmentation(X, y, params, rng, epochs)", out, 2)
    if not isinstance(trained, dict) or set(trained) != set(params):
        raise CheckFailed(f"train_with_augmentation(...)[0]: expected the params dict with keys {sorted(params)}")
    return {"losses": losses, **{f"param_{k}": v for k, v in trained.items()}}


def _augment_verify_loss(x, got):
    losses = got["losses"]
    expect_array("train_with_augmentation(...)[1] (one loss per epoch)", losses, np.zeros(int(scalar(x["epochs"]))),
                 atol=np.inf)
    first, last = losses[:20].mean(), losses[-20:].mean()
    if not last < 0.5 * first:
        raise CheckFailed(f"the mean loss of the last 20 epochs ({last:.3f}) should be below half that of the "
                          f"first 20 ({first:.3f}); is the optimizer stepping with the gradients of each epoch?")


def _augment_verify_accuracy(x, got):
    params = {k[len("param_"):]: v for k, v in got.items() if k.startswith("param_")}
    for k, v in params.items():
        expect_array(f"trained params[{k!r}]", v, x[f"param_{k}"], atol=np.inf)   # type, shape, dtype, finite
    test_pos, test_labels = tetris.make_dataset(np.random.default_rng(2024), 100, translation_scale=2.0)
    acc = mlp.accuracy(params, tetris.flatten_centred(test_pos), test_labels)
    if acc < MIN_ACCURACY:
        raise CheckFailed(f"accuracy on 800 randomly rotated and translated shapes is {acc:.3f}, expected at least "
                          f"{MIN_ACCURACY} (chance is 0.125; without augmentation it stays below 0.5)")


AUGMENT.add("the training loss goes down", _augment_inputs, _augment_run, _augment_verify_loss)
AUGMENT.add(f"accuracy on rotated test shapes above {MIN_ACCURACY}", _augment_inputs, _augment_run,
            _augment_verify_accuracy)


def _augment_verify_every_epoch(x, got):
    losses_ = got["losses"]
    expect_array("train_with_augmentation(...)[1] (one loss per epoch)", losses_, np.zeros(EPOCHS), atol=np.inf)
    skipped = np.flatnonzero(losses_ <= 0)
    if skipped.size:
        raise CheckFailed(f"{skipped.size} of the {EPOCHS} epoch losses are <= 0 (from epoch {skipped[0]}); a "
                          "cross-entropy is always positive, so those epochs did not run: train for all epochs")


AUGMENT.add("every epoch runs (a cross-entropy loss is positive)", _augment_inputs, _augment_run,
            _augment_verify_every_epoch, public=False)



# hidden check (the grader's): a replay the parent can redo exactly. With every shape at the origin the
# features are zero whatever rotations are drawn, so the run is deterministic: three epochs of one full-batch
# Adam step each, with a non-default learning rate and another number of shapes.
REPLAY_EPOCHS, REPLAY_LR, REPLAY_SHAPES = 3, 3e-3, 5


def _replay_inputs(rng):
    params = mlp.init_mlp(rng, list(SIZES))
    return {"X": np.zeros((REPLAY_SHAPES, 4, 3)), "y": rng.integers(0, 8, size=REPLAY_SHAPES),
            "seed": np.array(int(rng.integers(2**31))), **{f"param_{k}": v for k, v in params.items()}}


def _replay_run(student, x):
    params = {k[len("param_"):]: v.copy() for k, v in x.items() if k.startswith("param_")}
    train = student_function(student, "train_with_augmentation")
    out = train(x["X"], x["y"], params, _rng_from(x), REPLAY_EPOCHS, lr=REPLAY_LR)
    trained, history = expect_tuple("train_with_augmentation(X, y, params, rng, epochs, lr)", out, 2)
    if not isinstance(trained, dict) or set(trained) != set(params):
        raise CheckFailed(f"train_with_augmentation(...)[0]: expected the params dict with keys {sorted(params)}")
    return {"losses": history, **{f"param_{k}": v for k, v in trained.items()}}


def _replay_reference(x):
    params = {k[len("param_"):]: v.copy() for k, v in x.items() if k.startswith("param_")}
    opt, history = optim.Adam(params, lr=REPLAY_LR), np.zeros(REPLAY_EPOCHS)
    features = tetris.flatten_centred(x["X"])            # zero: rotations do not change it
    for epoch in range(REPLAY_EPOCHS):
        logits, cache = mlp.mlp_forward(features, params)
        history[epoch], loss_cache = losses.softmax_cross_entropy_forward(logits, x["y"])
        _, grads = mlp.mlp_backward(losses.softmax_cross_entropy_backward(loss_cache), cache)
        opt.step(grads)
    return params, history


def _replay_verify(x, got):
    params, history = _replay_reference(x)
    expect_array(f"train_with_augmentation(..., epochs={REPLAY_EPOCHS}, lr={REPLAY_LR})[1] (one loss per epoch, "
                 f"{REPLAY_SHAPES} shapes)", got["losses"], history, rtol=1e-6, atol=1e-10)
    for k, want in params.items():
        expect_array(f"params[{k!r}] after {REPLAY_EPOCHS} epochs with lr={REPLAY_LR} (one Adam created before the "
                     f"loop, one step per epoch, every epoch run)", got[f"param_{k}"], want, rtol=1e-6, atol=1e-10)


AUGMENT.add(f"{REPLAY_EPOCHS} epochs with lr={REPLAY_LR} on {REPLAY_SHAPES} shapes replay exactly (one Adam, one "
            "step per epoch)", _replay_inputs, _replay_run, _replay_verify, public=False)
