"""SchNet (Schuett et al. 2017/2018): an invariant message-passing interatomic potential.

Sub-blocks, each a forward/backward pair (edge convention: row 0 of ``edge_index`` is the
source j, row 1 the target i, ``r_ij = x_j - x_i``; a message travels j -> i):

- ``gaussian_rbf``:   e_k(d) = exp(-(d - mu_k)^2 / (2 sigma^2)), mu_k = k r_c / (K - 1), sigma = r_c / (K - 1)
- ``filter_network``: W_ij = [ssp(e(d_ij) W0 + b0) W1 + b1] * f_cut(d_ij)
- ``cfconv``:         y_i = sum_j (x_j W_in2f) * W_ij                       (continuous-filter convolution)
- ``interaction``:    v_i = ssp(y_i W_o0 + b_o0) W_o1 + b_o1, the residual update h_i <- h_i + v_i
- ``readout``:        E_g = sum_{i in g} [ssp(h_i W0 + b0) W1 + b1]           (F -> F/2 -> 1)

with ssp(x) = ln(1 + e^x) - ln 2 and the cosine cutoff f_cut(d) = (cos(pi d / r_c) + 1) / 2.
W_ij depends only on d_ij = d_ji, so the model computes distances and filters once per atom pair
(``graph.undirected_pairs``) and both edges of a pair read them: half the cost of the filter
network, the most expensive block.
The model adds a per-element energy offset, E_g += sum_{i in g} atomref[Z_i]
(a per-atom mean is the special case of equal offsets).

Forces are F = -dE/dpos by the hand-written backward. The model base (``refimpl.models.base.Model``)
gives ``energy_and_forces``, the energy+force loss ``loss_and_grads`` (its force term a Hessian-vector
product by central differences of this backward), save/load and ``fit_atomref``.

Parameter names and the references (our W is (in, out): the torch ``weight`` is W.T):

| ours                              | schnetpack 2                                   | PyTorch Geometric          |
| --------------------------------- | ---------------------------------------------- | -------------------------- |
| embedding (max_z, F)              | embedding.weight                               | embedding.weight           |
| interactions.t.filter.0.W / .b    | interactions.t.filter_network.0.weight / .bias | interactions.t.mlp.0.weight / .bias |
| interactions.t.filter.1.W / .b    | interactions.t.filter_network.1.weight / .bias | interactions.t.mlp.2.weight / .bias |
| interactions.t.in2f.W (no bias)   | interactions.t.in2f.weight                     | interactions.t.conv.lin1.weight |
| interactions.t.f2out.0.W / .b     | interactions.t.f2out.0.weight / .bias          | interactions.t.conv.lin2.weight / .bias |
| interactions.t.f2out.1.W / .b     | interactions.t.f2out.1.weight / .bias          | interactions.t.lin.weight / .bias |
| readout.0.W / .b (F -> F/2)       | outnet.0.weight / .bias (Atomwise)             | lin1.weight / .bias        |
| readout.1.W / .b (F/2 -> 1)       | outnet.1.weight / .bias (Atomwise)             | lin2.weight / .bias        |
| atomref (max_z,)                  | atomref of the AddOffsets postprocessor        | atomref.weight (max_z, 1)  |

Differences from the references: no ``max_num_neighbors`` limit on the radius graph (PyG
keeps 32 per atom), no energy standard-deviation scale, and ``atomref`` is a trained parameter
(initialized by ``fit_atomref``).
"""
import numpy as np

from refimpl.core import init
from refimpl.models.base import (Model, atomref_backward, atomref_forward, check_doutput, check_sizes,  # noqa: F401
                                 fit_atomref, prefixed, register_model, subdict)
from refimpl.geometry import displacement_backward, displacement_forward, distance_backward, distance_forward
from refimpl.graphs.graph import undirected_pairs
from refimpl.core.layers import linear_backward, linear_forward, shifted_softplus_backward, shifted_softplus_forward
from refimpl.nn.cutoffs import cosine_cutoff_backward, cosine_cutoff_forward
from refimpl.nn.radial import gaussian_rbf_backward, gaussian_rbf_forward
from refimpl.core.scatter import gather_backward, gather_forward, scatter_sum_backward, scatter_sum_forward
from refimpl.core.validate import as_float_array, check_like


# ----------------------------------------------------------------------------- filter network
def filter_network_forward(rbf, fcut, W0, b0, W1, b1):
    """Edge filters ``W_ij = [ssp(e_ij W0 + b0) W1 + b1] * f_cut(d_ij)``.

    rbf: (E, K); fcut: (E,); W0: (K, Ff); b0: (Ff,); W1: (Ff, Ff); b1: (Ff,). Returns W_ij: (E, Ff).
    """
    fcut = as_float_array("fcut", fcut, ndim=1)
    a, c0 = linear_forward(rbf, W0, b0)
    s, cs = shifted_softplus_forward(a)
    w, c1 = linear_forward(s, W1, b1)
    return w * fcut[:, None], (c0, cs, c1, w, fcut)


def filter_network_backward(dW_ij, cache, *, check_finite=True):
    """dW_ij: (E, Ff). Returns (drbf (E, K), dfcut (E,), dW0, db0, dW1, db1)."""
    c0, cs, c1, w, fcut = cache
    dW_ij = check_like("dW_ij", dW_ij, w.shape, check_finite)
    dfcut = np.einsum("ef,ef->e", dW_ij, w)
    ds, dW1, db1 = linear_backward(dW_ij * fcut[:, None], c1, check_finite=False)
    drbf, dW0, db0 = linear_backward(shifted_softplus_backward(ds, cs, check_finite=False), c0, check_finite=False)
    return drbf, dfcut, dW0, db0, dW1, db1


# ----------------------------------------------------------------------------- cfconv
def cfconv_forward(x, W_ij, edge_index, W_in2f):
    """Continuous-filter convolution ``y_i = sum_{j -> i} (x_j W_in2f) * W_ij`` (in2f has no bias).

    x: (N, F); W_ij: (E, Ff) filters; edge_index: (2, E); W_in2f: (F, Ff). Returns y: (N, Ff).
    """
    u, c_in = linear_forward(x, W_in2f)
    uj, c_g = gather_forward(u, edge_index[0])
    if W_ij.shape != uj.shape:
        raise ValueError(f"W_ij: expected shape {uj.shape} (edges, filters), got {W_ij.shape}")
    y, c_s = scatter_sum_forward(uj * W_ij, edge_index[1], x.shape[0])
    return y, (c_in, c_g, c_s, uj, W_ij, y.shape)


def cfconv_backward(dy, cache, *, check_finite=True):
    """dy: (N, Ff). Returns (dx (N, F), dW_ij (E, Ff), dW_in2f (F, Ff))."""
    c_in, c_g, c_s, uj, W_ij, y_shape = cache
    dm = scatter_sum_backward(check_like("dy", dy, y_shape, check_finite), c_s, check_finite=False)
    du = gather_backward(dm * W_ij, c_g, check_finite=False)
    dx, dW_in2f, _ = linear_backward(du, c_in, check_finite=False)
    return dx, dm * uj, dW_in2f


# ----------------------------------------------------------------------------- interaction
def interaction_forward(h, rbf, fcut, edge_index, p, pair=None):
    """SchNet interaction: filters, cfconv, then ``v = ssp(y W_o0 + b_o0) W_o1 + b_o1`` (f2out).

    h: (N, F); rbf: (E, K) and fcut: (E,) per edge, or (P, K) and (P,) per atom pair with
    pair: (E,) the pair of each edge (``graph.undirected_pairs``: a filter depends only on the
    distance, so the two edges of a pair share it and it is computed once); edge_index: (2, E);
    p: this interaction's parameters by name (``INTERACTION_SHAPES``): filter.0.W (K, Ff),
    filter.1.W (Ff, Ff), in2f.W (F, Ff), f2out.0.W (Ff, F), f2out.1.W (F, F), biases to match.
    Returns the update v: (N, F) (the model adds it: h <- h + v).
    """
    W_ij, c_f = filter_network_forward(rbf, fcut, p["filter.0.W"], p["filter.0.b"], p["filter.1.W"], p["filter.1.b"])
    c_p = None
    if pair is not None:
        W_ij, c_p = gather_forward(W_ij, pair)                 # per pair -> per edge
    y, c_c = cfconv_forward(h, W_ij, edge_index, p["in2f.W"])
    a, c_o0 = linear_forward(y, p["f2out.0.W"], p["f2out.0.b"])
    s, c_s = shifted_softplus_forward(a)
    v, c_o1 = linear_forward(s, p["f2out.1.W"], p["f2out.1.b"])
    return v, (c_f, c_p, c_c, c_o0, c_s, c_o1, v.shape)


def interaction_backward(dv, cache, *, check_finite=True):
    """dv: (N, F). Returns (dh (N, F), drbf, dfcut, dp: a dict of parameter gradients named as p).

    Only dv's finiteness is tested (unless check_finite=False); the gradients computed from it
    inside are passed on with shape checks only.
    """
    c_f, c_p, c_c, c_o0, c_s, c_o1, v_shape = cache
    dp = {}
    ds, dp["f2out.1.W"], dp["f2out.1.b"] = linear_backward(check_like("dv", dv, v_shape, check_finite), c_o1,
                                                           check_finite=False)
    dy, dp["f2out.0.W"], dp["f2out.0.b"] = linear_backward(shifted_softplus_backward(ds, c_s, check_finite=False),
                                                           c_o0, check_finite=False)
    dh, dW_ij, dp["in2f.W"] = cfconv_backward(dy, c_c, check_finite=False)
    if c_p is not None:
        dW_ij = gather_backward(dW_ij, c_p, check_finite=False)   # a pair's filter gets both edges' gradients
    drbf, dfcut, *g_f = filter_network_backward(dW_ij, c_f, check_finite=False)
    dp.update(zip(("filter.0.W", "filter.0.b", "filter.1.W", "filter.1.b"), g_f))
    return dh, drbf, dfcut, dp


# ----------------------------------------------------------------------------- readout
def readout_forward(h, batch, num_graphs, p):
    """Atomwise energies summed per graph: ``E_g = sum_{i in g} ssp(h_i W0 + b0) W1 + b1``.

    h: (N, F); batch: (N,) graph ids; num_graphs: G; p: {"0.W": (F, F/2), "0.b": (F/2,), "1.W": (F/2, 1),
    "1.b": (1,)}. Returns E: (G,).
    """
    a, c0 = linear_forward(h, p["0.W"], p["0.b"])
    s, cs = shifted_softplus_forward(a)
    e_atom, c1 = linear_forward(s, p["1.W"], p["1.b"])
    E, c_sum = scatter_sum_forward(e_atom[:, 0], batch, num_graphs)
    return E, (c0, cs, c1, c_sum, E.shape)


def readout_backward(dE, cache, *, check_finite=True):
    """dE: (G,). Returns (dh (N, F), dp: gradients named as p)."""
    c0, cs, c1, c_sum, E_shape = cache
    de_atom = scatter_sum_backward(check_like("dE", dE, E_shape, check_finite), c_sum, check_finite=False)[:, None]
    dp = {}
    ds, dp["1.W"], dp["1.b"] = linear_backward(de_atom, c1, check_finite=False)
    dh, dp["0.W"], dp["0.b"] = linear_backward(shifted_softplus_backward(ds, cs, check_finite=False), c0,
                                               check_finite=False)
    return dh, dp


# ----------------------------------------------------------------------------- the model


@register_model("schnet")
class SchNet(Model):
    """SchNet energy model E(Z, pos) with forces -dE/dpos; ``params`` maps names to float64 arrays.

    n_atom_basis: F, atom feature size; n_filters: Ff, filter size; n_interactions: T;
    n_rbf: K Gaussians; cutoff: r_c (Angstrom); max_z: atomic numbers 1 <= Z < max_z;
    seed: initialization (Glorot-uniform weights, zero biases, N(0, 1) embedding).
    """

    OUTPUTS = {"energy": "graph_scalar"}

    def __init__(self, n_atom_basis=64, n_filters=64, n_interactions=3, n_rbf=20, cutoff=5.0, max_z=100, seed=0):
        check_sizes(n_atom_basis=(n_atom_basis, 2), n_filters=(n_filters, 1), n_interactions=(n_interactions, 1),
                    n_rbf=(n_rbf, 2))
        super().__init__(cutoff, max_z)
        self.n_atom_basis, self.n_filters, self.n_interactions = n_atom_basis, n_filters, n_interactions
        self.n_rbf, self.seed = n_rbf, seed
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        return {"n_atom_basis": self.n_atom_basis, "n_filters": self.n_filters, "n_interactions": self.n_interactions,
                "n_rbf": self.n_rbf, "cutoff": self.cutoff, "max_z": self.max_z, "seed": self.seed}

    def _init_params(self, rng):
        F, Ff, K, Fh = self.n_atom_basis, self.n_filters, self.n_rbf, self.n_atom_basis // 2
        p = {"embedding": rng.normal(size=(self.max_z, F))}
        shapes = {"filter.0.W": (K, Ff), "filter.1.W": (Ff, Ff), "in2f.W": (F, Ff),
                  "f2out.0.W": (Ff, F), "f2out.1.W": (F, F)}
        for t in range(self.n_interactions):
            for key, (n_in, n_out) in shapes.items():
                p[f"interactions.{t}.{key}"] = init.glorot_uniform(rng, n_in, n_out)
                if key != "in2f.W":                                   # in2f has no bias
                    p[f"interactions.{t}.{key[:-1]}b"] = init.zeros(n_out)
        p["readout.0.W"], p["readout.0.b"] = init.glorot_uniform(rng, F, Fh), init.zeros(Fh)
        p["readout.1.W"], p["readout.1.b"] = init.glorot_uniform(rng, Fh, 1), init.zeros(1)
        p["atomref"] = init.zeros(self.max_z)
        return p

    # --------------------------------------------------------------------- forward / backward
    def forward(self, Z, pos, batch, edge_index, num_graphs):
        """Energies of validated inputs on a given graph; returns ({"energy": E (G,)}, cache)."""
        p = self.params
        pair_edges, pair, _ = undirected_pairs(edge_index, pos.shape[0])   # distances and filters once per pair
        r, c_r = displacement_forward(pos, pair_edges)
        d, c_d = distance_forward(r)
        rbf, c_rbf = gaussian_rbf_forward(d, self.n_rbf, self.cutoff)
        fcut, c_cut = cosine_cutoff_forward(d, self.cutoff)
        h, c_emb = gather_forward(p["embedding"], Z)
        c_int = []
        for t in range(self.n_interactions):
            v, c = interaction_forward(h, rbf, fcut, edge_index, subdict(p, f"interactions.{t}."), pair=pair)
            h = h + v
            c_int.append(c)
        E, c_out = readout_forward(h, batch, num_graphs, subdict(p, "readout."))
        offset, c_ref = atomref_forward(p["atomref"], Z, batch, num_graphs)
        E = E + offset
        return {"energy": E}, (c_r, c_d, c_rbf, c_cut, c_emb, c_int, c_out, c_ref, E.shape)

    def backward(self, doutputs, cache):
        """Given {"energy": dL/dE (G,)}, returns (grads dict shaped like params, dL/dpos (N, 3)).

        dE is checked (shape and finiteness) once here; the gradients computed from it go down
        the sub-blocks with shape checks only (``fast``), which keeps this hot loop cheap.
        """
        c_r, c_d, c_rbf, c_cut, c_emb, c_int, c_out, c_ref, E_shape = cache
        dE = check_doutput("doutputs['energy']", self._doutputs(**doutputs).get("energy"), E_shape)
        fast = {"check_finite": False}
        grads = {"atomref": atomref_backward(dE, c_ref, **fast)}
        dh, g_out = readout_backward(dE, c_out, **fast)
        grads.update(prefixed("readout.", g_out))
        drbf, dfcut = 0.0, 0.0
        for t in reversed(range(self.n_interactions)):
            dh_v, drbf_t, dfcut_t, g_int = interaction_backward(dh, c_int[t], **fast)
            dh, drbf, dfcut = dh + dh_v, drbf + drbf_t, dfcut + dfcut_t
            grads.update(prefixed(f"interactions.{t}.", g_int))
        grads["embedding"] = gather_backward(dh, c_emb, **fast)
        dd = gaussian_rbf_backward(drbf, c_rbf, **fast) + cosine_cutoff_backward(dfcut, c_cut, **fast)
        dpos = displacement_backward(distance_backward(dd, c_d, **fast), c_r, **fast)
        return grads, dpos
