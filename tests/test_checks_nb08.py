"""The checks of exercises/08_angles.ipynb accept the reference and reject typical wrong answers."""
import numpy as np

from refimpl.geometry import displacement_forward
from refimpl.geometry.triplets import triplet_cosine_forward, triplets
from refimpl.nn.angular import legendre_backward, legendre_forward
from coursework.checks import exercises_for, run_check

CHECKS = {(c.exercise, c.name): c for ex in exercises_for("08_angles") for c in ex.checks}


def failing(exercise, namespace):
    return {name for (ex, name), c in CHECKS.items() if ex == exercise and not run_check(c, namespace).passed}


def cosines(pos, edge_index, idx_kj, idx_ji):
    return triplet_cosine_forward(displacement_forward(pos, edge_index)[0], idx_kj, idx_ji)[0]


REFERENCE = {"triplets": triplets, "triplet_cosines": cosines,
             "legendre_forward": legendre_forward, "legendre_backward": legendre_backward}


def test_reference_passes_every_check():
    for ex in ("triplets", "legendre"):
        assert failing(ex, REFERENCE) == set(), ex


def test_shuffled_triplets_pass():
    """Any order of the triplets is accepted."""
    def shuffled(edge_index, num_nodes):
        kj, ji = triplets(edge_index, num_nodes)
        p = np.random.default_rng(0).permutation(kj.size)
        return kj[p], ji[p]
    assert failing("triplets", dict(REFERENCE, triplets=shuffled)) == set()


def _keep_k_equal_i(edge_index, num_nodes):
    src, dst = edge_index
    pairs = [(a, b) for b in range(src.size) for a in range(src.size) if dst[a] == src[b]]
    return np.array([p[0] for p in pairs], dtype=int), np.array([p[1] for p in pairs], dtype=int)


def _swapped_rows(edge_index, num_nodes):
    return triplets(edge_index[::-1], num_nodes)


def test_triplets_with_k_equal_i_fail():
    assert failing("triplets", dict(REFERENCE, triplets=_keep_k_equal_i)) >= {
        "radius graph: the triplets match the reference", "directed graph: row 0 is the source j, row 1 the target i"}


def test_swapped_rows_fail_on_the_directed_graph():
    assert "directed graph: row 0 is the source j, row 1 the target i" in failing(
        "triplets", dict(REFERENCE, triplets=_swapped_rows))


def test_angle_at_the_wrong_vertex_or_sign_fails():
    def at_i(pos, edge_index, idx_kj, idx_ji):              # angle at i between j and k
        j, i, k = edge_index[0][idx_ji], edge_index[1][idx_ji], edge_index[0][idx_kj]
        a, b = pos[j] - pos[i], pos[k] - pos[i]
        return np.einsum("tk,tk->t", a, b) / np.linalg.norm(a, axis=1) / np.linalg.norm(b, axis=1)

    def edge_vectors(pos, edge_index, idx_kj, idx_ji):      # r_ji . r_kj without the minus sign
        return -cosines(pos, edge_index, idx_kj, idx_ji)

    name = "cosines of the angle at j match the reference"
    assert name in failing("triplets", dict(REFERENCE, triplet_cosines=at_i))
    assert name in failing("triplets", dict(REFERENCE, triplet_cosines=edge_vectors))


def test_legendre_mistakes_fail():
    def no_division(c, L):                                 # (l+1) P_{l+1} without dividing by l + 1
        P, cache = legendre_forward(c, L)
        return P * np.arange(1, L + 1), cache

    def forward_keeping_c(c, L):
        return legendre_forward(c, L)[0], (c, legendre_forward(c, L)[0])

    def derivative_by_division(dP, cache):                 # P_l' = l (c P_l - P_{l-1}) / (c^2 - 1): 0/0 at c = +-1
        c, P = cache
        l = np.arange(1, P.shape[1])
        with np.errstate(divide="ignore", invalid="ignore"):
            deriv = l * (c[:, None] * P[:, 1:] - P[:, :-1]) / (c[:, None] ** 2 - 1)
        return np.sum(dP[:, 1:] * deriv, axis=1)

    def forgot_derivative_recursion(dP, cache):            # only P_1' = 1 kept
        (dPdc,) = cache
        return dP[:, 1] * dPdc[:, 1]

    assert "forward matches the reference" in failing("legendre", dict(REFERENCE, legendre_forward=no_division))
    backward = "backward matches the reference (finite at c = +-1)"
    assert backward in failing("legendre", dict(REFERENCE, legendre_forward=forward_keeping_c,
                                                legendre_backward=derivative_by_division))
    assert backward in failing("legendre", dict(REFERENCE, legendre_backward=forgot_derivative_recursion))
