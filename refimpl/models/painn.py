"""PaiNN (Schuett, Unke, Gastegger 2021): message passing with scalar and vector features.

Every atom carries scalars s (N, F) and vectors v (N, F, 3) (F channels of one 3-vector each; our
layout, schnetpack stores (N, 3, F)); s starts from an element embedding, v at zero. Edges j -> i,
``r_ij = x_j - x_i``, ``u_ij = r_ij / d_ij``. T rounds of two residual blocks, each a forward/backward pair:

- ``filters``: W_ij = (e(d_ij) W_f + b_f) * f_cut(d_ij), (E, 3F) per interaction (one linear layer on the
  radial basis e, Gaussian or sine; not shared across interactions unless ``shared_filters``);
- ``message``: phi_j = silu(s_j W0 + b0) W1 + b1 (3F); (m_s, m_vR, m_vv) = split(W_ij * phi_j), in that order;
  s_i += sum_j m_s,   v_i += sum_j (m_vR u_ij + m_vv v_j);
- ``update``: (V, U) = split(v W_mix) (no bias: a bias vector would not rotate);
  |V| = sqrt(sum_xyz V^2 + eps) (eps = 1e-8 inside the root: smooth and exactly invariant);
  (a_ss, a_vv, a_sv) = split(silu([s, |V|] W0 + b0) W1 + b1);
  s += a_ss + a_sv <V, U>,   v += a_vv U;
- ``readout``: E_g = sum_{i in g} silu(s_i W0 + b0) W1 + b1 + atomref[Z_i]   (F -> F/2 -> 1).

Forces -dE/dpos come from the backward pass (``PaiNN``). ``PaiNNDirect`` adds a vector head that
predicts forces directly, F_i = g(s_i) (v_i W_F) with an invariant gate g (an equivariant output that is
not a gradient: chapter 14 measures what that costs in an NVE run).

Parameter names and schnetpack's (``representation.`` prefix of NeuralNetworkPotential; our W is (in, out),
the torch ``weight`` is W.T; their vectors mu are (N, 3, F), ours v are (N, F, 3)):

| ours                                                  | schnetpack 2 (PaiNN, Atomwise)                              |
| ----------------------------------------------------- | ----------------------------------------------------------- |
| embedding (max_z, F)                                  | representation.embedding.weight                             |
| filter_net.W (K, 3FT) / .b                            | representation.filter_net.weight / .bias                    |
| interactions.t.interatomic_context_net.0.W / .b       | representation.interactions.t.interatomic_context_net.0.weight / .bias |
| interactions.t.interatomic_context_net.1.W / .b       | representation.interactions.t.interatomic_context_net.1.weight / .bias |
| mixing.t.mu_channel_mix.W (F, 2F): [V, U] columns     | representation.mixing.t.mu_channel_mix.weight (mu_V, mu_W)  |
| mixing.t.intraatomic_context_net.0.W / .b             | representation.mixing.t.intraatomic_context_net.0.weight / .bias |
| mixing.t.intraatomic_context_net.1.W / .b             | representation.mixing.t.intraatomic_context_net.1.weight / .bias |
| readout.0.W / .b, readout.1.W / .b                    | output_modules.0.outnet.0 / .1 .weight / .bias (Atomwise)   |
| atomref (max_z,)                                      | atomref of the AddOffsets postprocessor                     |
| direct_forces.* (PaiNNDirect only)                    | none (cf. schnetpack's GatedEquivariantBlock)               |

The filter columns of interaction t are filter_net.W[:, 3Ft:3F(t+1)], split (m_s, m_vR, m_vv) as in
schnetpack. Differences: the sine basis takes its limit n pi / r_c at d = 0 (schnetpack's BesselRBF
gives 0 there), and ``atomref`` is a trained parameter.
"""
import numpy as np

from refimpl.core import init
from refimpl.core.layers import linear_backward, linear_forward, silu_backward, silu_forward
from refimpl.core.scatter import gather_backward, gather_forward, scatter_sum_backward, scatter_sum_forward
from refimpl.core.validate import check_like
from refimpl.geometry import (displacement_backward, displacement_forward, distance_backward, distance_forward,
                              unit_vector_backward, unit_vector_forward)
from refimpl.graphs.graph import undirected_pairs
from refimpl.models.base import (Model, atomref_backward, atomref_forward, check_doutput, check_sizes, prefixed,
                                 register_model, subdict)
from refimpl.nn.cutoffs import cosine_cutoff_backward, cosine_cutoff_forward
from refimpl.nn.radial import gaussian_rbf_backward, gaussian_rbf_forward, sine_rbf_backward, sine_rbf_forward
from refimpl.nn.vectors import (scale_vectors_backward, scale_vectors_forward, vector_dot_backward,
                                vector_dot_forward, vector_linear_backward, vector_linear_forward,
                                vector_norm_backward, vector_norm_forward)

RADIAL_BASES = {"gaussian": (gaussian_rbf_forward, gaussian_rbf_backward),
                "sine": (sine_rbf_forward, sine_rbf_backward)}
EPSILON = 1e-8                  # inside the square root of |V| (schnetpack's default)


# ----------------------------------------------------------------------------- two dense layers
def dense2_forward(x, p):
    """``silu(x W0 + b0) W1 + b1``: schnetpack's Dense(activation=silu) -> Dense.

    x: (N, D); p: {"0.W": (D, H), "0.b": (H,), "1.W": (H, O), "1.b": (O,)}. Returns (N, O).
    """
    a, c0 = linear_forward(x, p["0.W"], p["0.b"])
    h, c_act = silu_forward(a)
    out, c1 = linear_forward(h, p["1.W"], p["1.b"])
    return out, (c0, c_act, c1)


def dense2_backward(dout, cache, *, check_finite=True):
    """dout: (N, O). Returns (dx (N, D), grads {"0.W", "0.b", "1.W", "1.b"})."""
    c0, c_act, c1 = cache
    dout = check_like("dout", dout, c1[0].shape[:-1] + c1[1].shape[1:], check_finite)
    dh, dW1, db1 = linear_backward(dout, c1, check_finite=False)
    dx, dW0, db0 = linear_backward(silu_backward(dh, c_act, check_finite=False), c0, check_finite=False)
    return dx, {"0.W": dW0, "0.b": db0, "1.W": dW1, "1.b": db1}


# ----------------------------------------------------------------------------- filters
def filters_forward(rbf, fcut, W, b):
    """Filters ``W_ij = (e_ij W + b) * f_cut(d_ij)``. rbf: (E, K); fcut: (E,); W: (K, M); b: (M,). Returns (E, M)."""
    w, c = linear_forward(rbf, W, b)
    return w * fcut[:, None], (c, w, fcut)


def filters_backward(dW_ij, cache, *, check_finite=True):
    """dW_ij: (E, M). Returns (drbf (E, K), dfcut (E,), dW (K, M), db (M,))."""
    c, w, fcut = cache
    dW_ij = check_like("dW_ij", dW_ij, w.shape, check_finite)
    drbf, dW, db = linear_backward(dW_ij * fcut[:, None], c, check_finite=False)
    return drbf, np.einsum("em,em->e", dW_ij, w), dW, db


# ----------------------------------------------------------------------------- message block
def message_forward(s, v, W_ij, dir_ij, edge_index, p):
    """PaiNN message: s_i + sum_j m_s and v_i + sum_j (m_vR u_ij + m_vv v_j), (m_s, m_vR, m_vv) = split(W_ij * phi_j).

    phi = dense2(s), the interatomic context net. s: (N, F); v: (N, F, 3); W_ij: (E, 3F) filters;
    dir_ij: (E, 3) unit vectors u_ij = r_ij / d_ij; edge_index: (2, E) (row 0 source j, row 1 target i);
    p: {"0.W": (F, F), "0.b": (F,), "1.W": (F, 3F), "1.b": (3F,)}.
    Returns ((s_new (N, F), v_new (N, F, 3)), cache).
    """
    F = s.shape[1]
    phi, c_phi = dense2_forward(s, p)
    phi_j, c_gs = gather_forward(phi, edge_index[0])
    if W_ij.shape != phi_j.shape:
        raise ValueError(f"W_ij: expected shape {phi_j.shape} (edges, 3F), got {W_ij.shape}")
    m = W_ij * phi_j
    m_vR, m_vv = m[:, F:2 * F], m[:, 2 * F:]
    v_j, c_gv = gather_forward(v, edge_index[0])
    dv_ij = m_vR[:, :, None] * dir_ij[:, None, :] + m_vv[:, :, None] * v_j
    ds, c_ss = scatter_sum_forward(m[:, :F], edge_index[1], s.shape[0])
    dv, c_sv = scatter_sum_forward(dv_ij, edge_index[1], s.shape[0])
    return (s + ds, v + dv), (c_phi, c_gs, c_gv, c_ss, c_sv, W_ij, phi_j, m_vR, m_vv, v_j, dir_ij)


def message_backward(dout, cache, *, check_finite=True):
    """dout: (ds_new (N, F), dv_new (N, F, 3)). Returns (ds, dv, dW_ij (E, 3F), ddir_ij (E, 3), grads like p)."""
    c_phi, c_gs, c_gv, c_ss, c_sv, W_ij, phi_j, m_vR, m_vv, v_j, dir_ij = cache
    ds_new = check_like("ds_new", dout[0], c_ss[1], check_finite)
    dv_new = check_like("dv_new", dout[1], c_sv[1], check_finite)
    dm_s = scatter_sum_backward(ds_new, c_ss, check_finite=False)                     # (E, F)
    ddv_ij = scatter_sum_backward(dv_new, c_sv, check_finite=False)                   # (E, F, 3)
    dm = np.concatenate([dm_s, (ddv_ij @ dir_ij[:, :, None])[:, :, 0],
                         np.einsum("efk,efk->ef", ddv_ij, v_j)], axis=1)
    ddir = (m_vR[:, None, :] @ ddv_ij)[:, 0]
    dv = dv_new + gather_backward(ddv_ij * m_vv[:, :, None], c_gv, check_finite=False)
    dphi = gather_backward(dm * W_ij, c_gs, check_finite=False)
    ds_phi, grads = dense2_backward(dphi, c_phi, check_finite=False)
    return ds_new + ds_phi, dv, dm * phi_j, ddir, grads


# ----------------------------------------------------------------------------- update block
def update_forward(s, v, p, eps=EPSILON):
    """PaiNN update: s + a_ss + a_sv <V, U> and v + a_vv U, with (V, U) = split(v W_mix).

    (a_ss, a_vv, a_sv) = split(dense2([s, |V|])) (the intra-atomic context net), |V| = sqrt(sum_xyz V^2 + eps).
    s: (N, F); v: (N, F, 3); p: {"mu_channel_mix.W": (F, 2F) (no bias), "intraatomic_context_net.0.W": (2F, F),
    "...0.b": (F,), "...1.W": (F, 3F), "...1.b": (3F,)}. Returns ((s_new (N, F), v_new (N, F, 3)), cache).
    """
    F = s.shape[1]
    mix, c_mix = vector_linear_forward(v, p["mu_channel_mix.W"])
    V, U = mix[:, :F], mix[:, F:]
    norm, c_norm = vector_norm_forward(V, eps)
    a, c_a = dense2_forward(np.concatenate([s, norm], axis=1), subdict(p, "intraatomic_context_net."))
    a_ss, a_vv, a_sv = a[:, :F], a[:, F:2 * F], a[:, 2 * F:]
    dot, c_dot = vector_dot_forward(V, U)
    gated, c_gate = scale_vectors_forward(a_vv, U)
    return (s + a_ss + a_sv * dot, v + gated), (c_mix, c_norm, c_a, c_dot, c_gate, a_sv, dot, F)


def update_backward(dout, cache, *, check_finite=True):
    """dout: (ds_new (N, F), dv_new (N, F, 3)). Returns (ds, dv, grads like p)."""
    c_mix, c_norm, c_a, c_dot, c_gate, a_sv, dot, F = cache
    ds_new = check_like("ds_new", dout[0], dot.shape, check_finite)
    dv_new = check_like("dv_new", dout[1], c_gate[1].shape, check_finite)
    da_vv, dU = scale_vectors_backward(dv_new, c_gate, check_finite=False)
    dV, dU_dot = vector_dot_backward(ds_new * a_sv, c_dot, check_finite=False)
    dctx, g_a = dense2_backward(np.concatenate([ds_new, da_vv, ds_new * dot], axis=1), c_a, check_finite=False)
    dV = dV + vector_norm_backward(dctx[:, F:], c_norm, check_finite=False)
    dv_mix, dW_mix = vector_linear_backward(np.concatenate([dV, dU + dU_dot], axis=1), c_mix, check_finite=False)
    grads = {"mu_channel_mix.W": dW_mix, **prefixed("intraatomic_context_net.", g_a)}
    return ds_new + dctx[:, :F], dv_new + dv_mix, grads


# ----------------------------------------------------------------------------- outputs
def readout_forward(s, batch, num_graphs, p):
    """Atomwise energies summed per graph, ``E_g = sum_{i in g} silu(s_i W0 + b0) W1 + b1``.

    s: (N, F); batch: (N,); p: {"0.W": (F, F/2), "0.b", "1.W": (F/2, 1), "1.b"}. Returns E: (G,).
    """
    e, c_e = dense2_forward(s, p)
    E, c_sum = scatter_sum_forward(e[:, 0], batch, num_graphs)
    return E, (c_e, c_sum)


def readout_backward(dE, cache, *, check_finite=True):
    """dE: (G,). Returns (ds (N, F), grads like p)."""
    c_e, c_sum = cache
    de = scatter_sum_backward(check_like("dE", dE, c_sum[1], check_finite), c_sum, check_finite=False)[:, None]
    return dense2_backward(de, c_e, check_finite=False)


def vector_head_forward(s, v, p):
    """One equivariant vector per atom, ``y_i = g(s_i) (v_i W_v)``, with the invariant gate g = dense2(s).

    s: (N, F); v: (N, F, 3); p: {"mix.W": (F, 1) (W_v, no bias), "gate.0.W": (F, H), "gate.0.b",
    "gate.1.W": (H, 1), "gate.1.b"}. Returns y: (N, 3).
    """
    g, c_g = dense2_forward(s, subdict(p, "gate."))
    y, c_v = vector_linear_forward(v, p["mix.W"])
    out, c_s = scale_vectors_forward(g, y)
    return out[:, 0], (c_g, c_v, c_s)


def vector_head_backward(dy, cache, *, check_finite=True):
    """dy: (N, 3). Returns (ds, dv, grads like p)."""
    c_g, c_v, c_s = cache
    dy = check_like("dy", dy, (c_s[1].shape[0], 3), check_finite)
    dg, dvec = scale_vectors_backward(dy[:, None, :], c_s, check_finite=False)
    dv, dW_v = vector_linear_backward(dvec, c_v, check_finite=False)
    ds, g_gate = dense2_backward(dg, c_g, check_finite=False)
    return ds, dv, {"mix.W": dW_v, **prefixed("gate.", g_gate)}


# ----------------------------------------------------------------------------- the models
@register_model("painn")
class PaiNN(Model):
    """PaiNN energy model E(Z, pos) with forces -dE/dpos (module docstring: equations and names).

    n_atom_basis: F; n_interactions: T; n_rbf: K radial functions; radial_basis: "sine" (the paper's,
    sin(n pi d / r_c) / d) or "gaussian" (SchNet's); cutoff: r_c (Angstrom); shared_filters: one filter
    set for all interactions; epsilon: inside the square root of |V|; max_z: 1 <= Z < max_z;
    seed: initialization (Xavier-uniform weights, zero biases, N(0, 1) embedding, as schnetpack).
    """

    OUTPUTS = {"energy": "graph_scalar"}

    def __init__(self, n_atom_basis=64, n_interactions=3, n_rbf=20, radial_basis="sine", cutoff=5.0,
                 shared_filters=False, epsilon=EPSILON, max_z=100, seed=0):
        check_sizes(n_atom_basis=(n_atom_basis, 2), n_interactions=(n_interactions, 1), n_rbf=(n_rbf, 2))
        super().__init__(cutoff, max_z)
        if radial_basis not in RADIAL_BASES:
            raise ValueError(f"radial_basis: expected one of {sorted(RADIAL_BASES)}, got {radial_basis!r}")
        if not isinstance(shared_filters, (bool, np.bool_)):
            raise ValueError(f"shared_filters: expected True or False, got {shared_filters!r}")
        if isinstance(epsilon, bool) or not isinstance(epsilon, (int, float)) or not 0 < epsilon < 1:
            raise ValueError(f"epsilon: expected a number in (0, 1), got {epsilon!r}")
        self.n_atom_basis, self.n_interactions, self.n_rbf = n_atom_basis, n_interactions, n_rbf
        self.radial_basis, self.shared_filters, self.epsilon, self.seed = radial_basis, bool(shared_filters), \
            float(epsilon), seed
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        return {"n_atom_basis": self.n_atom_basis, "n_interactions": self.n_interactions, "n_rbf": self.n_rbf,
                "radial_basis": self.radial_basis, "cutoff": self.cutoff, "shared_filters": self.shared_filters,
                "epsilon": self.epsilon, "max_z": self.max_z, "seed": self.seed}

    def _init_params(self, rng):
        F, K, Fh = self.n_atom_basis, self.n_rbf, self.n_atom_basis // 2
        n_sets = 1 if self.shared_filters else self.n_interactions

        def dense(name, n_in, n_out, bias=True):
            p[f"{name}.W"] = init.glorot_uniform(rng, n_in, n_out)
            if bias:
                p[f"{name}.b"] = init.zeros(n_out)

        p = {"embedding": rng.normal(size=(self.max_z, F))}
        dense("filter_net", K, 3 * F * n_sets)
        for t in range(self.n_interactions):
            dense(f"interactions.{t}.interatomic_context_net.0", F, F)
            dense(f"interactions.{t}.interatomic_context_net.1", F, 3 * F)
            dense(f"mixing.{t}.mu_channel_mix", F, 2 * F, bias=False)
            dense(f"mixing.{t}.intraatomic_context_net.0", 2 * F, F)
            dense(f"mixing.{t}.intraatomic_context_net.1", F, 3 * F)
        dense("readout.0", F, Fh)
        dense("readout.1", Fh, 1)
        if "forces" in self.OUTPUTS:
            dense("direct_forces.mix", F, 1, bias=False)
            dense("direct_forces.gate.0", F, Fh)
            dense("direct_forces.gate.1", Fh, 1)
        p["atomref"] = init.zeros(self.max_z)
        return p

    # --------------------------------------------------------------------- forward / backward
    def forward(self, Z, pos, batch, edge_index, num_graphs):
        """Outputs of validated inputs on a given graph: ({"energy": (G,)[, "forces": (N, 3)]}, cache)."""
        p, F, N = self.params, self.n_atom_basis, pos.shape[0]
        pairs = undirected_pairs(edge_index, N)            # distances and filters once per atom pair
        r, c_r = displacement_forward(pos, pairs.edges)
        d, c_d = distance_forward(r)
        u, c_u = unit_vector_forward(r)
        rbf, c_rbf = RADIAL_BASES[self.radial_basis][0](d, self.n_rbf, self.cutoff)
        fcut, c_cut = cosine_cutoff_forward(d, self.cutoff)
        filt, c_filt = filters_forward(rbf, fcut, p["filter_net.W"], p["filter_net.b"])
        filt_e, c_fe = gather_forward(filt, pairs.pair)     # per pair -> per edge
        u_e, c_ue = gather_forward(u, pairs.pair)
        dir_e = pairs.sign[:, None] * u_e                   # u_ji = -u_ij
        s, c_emb = gather_forward(p["embedding"], Z)
        v = np.zeros((N, F, 3))
        c_blocks = []
        for t in range(self.n_interactions):
            cols = self._filter_columns(t)
            (s, v), c_m = message_forward(s, v, filt_e[:, cols], dir_e, edge_index,
                                          subdict(p, f"interactions.{t}.interatomic_context_net."))
            (s, v), c_up = update_forward(s, v, subdict(p, f"mixing.{t}."), eps=self.epsilon)
            c_blocks.append((c_m, c_up))
        E, c_out = readout_forward(s, batch, num_graphs, subdict(p, "readout."))
        offset, c_ref = atomref_forward(p["atomref"], Z, batch, num_graphs)
        outputs, c_head = {"energy": E + offset}, None
        if "forces" in self.OUTPUTS:
            outputs["forces"], c_head = vector_head_forward(s, v, subdict(p, "direct_forces."))
        cache = (c_r, c_d, c_u, c_rbf, c_cut, c_filt, c_fe, c_ue, pairs.sign, c_emb, c_blocks, c_out, c_ref,
                 c_head, E.shape, (N, F))
        return outputs, cache

    def _filter_columns(self, t):
        k = 0 if self.shared_filters else t
        return slice(3 * self.n_atom_basis * k, 3 * self.n_atom_basis * (k + 1))

    def backward(self, doutputs, cache):
        """Given {"energy": dL/dE (G,)[, "forces": dL/dF (N, 3)]}, returns (grads like params, dL/dpos (N, 3))."""
        (c_r, c_d, c_u, c_rbf, c_cut, c_filt, c_fe, c_ue, sign, c_emb, c_blocks, c_out, c_ref, c_head,
         E_shape, (N, F)) = cache
        doutputs = self._doutputs(**doutputs)
        dE = check_doutput("doutputs['energy']", doutputs.get("energy"), E_shape)
        fast, p = {"check_finite": False}, self.params
        grads = {"atomref": atomref_backward(dE, c_ref)}
        ds, g = readout_backward(dE, c_out, **fast)
        grads.update(prefixed("readout.", g))
        dv = np.zeros((N, F, 3))
        if c_head is not None:
            dF = check_doutput("doutputs['forces']", doutputs.get("forces"), (N, 3))
            ds_h, dv, g = vector_head_backward(dF, c_head, **fast)
            ds = ds + ds_h
            grads.update(prefixed("direct_forces.", g))
        dfilt_e, ddir = np.zeros(c_fe[0].shape + p["filter_net.b"].shape), 0.0
        for t in reversed(range(self.n_interactions)):
            c_m, c_up = c_blocks[t]
            ds, dv, g = update_backward((ds, dv), c_up, **fast)
            grads.update(prefixed(f"mixing.{t}.", g))
            ds, dv, dW_ij, ddir_t, g = message_backward((ds, dv), c_m, **fast)
            grads.update(prefixed(f"interactions.{t}.interatomic_context_net.", g))
            dfilt_e[:, self._filter_columns(t)] += dW_ij
            ddir = ddir + ddir_t
        grads["embedding"] = gather_backward(ds, c_emb, **fast)
        drbf, dfcut, grads["filter_net.W"], grads["filter_net.b"] = filters_backward(
            gather_backward(dfilt_e, c_fe, **fast), c_filt, **fast)
        dd = RADIAL_BASES[self.radial_basis][1](drbf, c_rbf, **fast) + cosine_cutoff_backward(dfcut, c_cut, **fast)
        du = gather_backward(sign[:, None] * ddir, c_ue, **fast)
        dr = distance_backward(dd, c_d, **fast) + unit_vector_backward(du, c_u)
        return grads, displacement_backward(dr, c_r, **fast)


@register_model("painn_direct")
class PaiNNDirect(PaiNN):
    """PaiNN with a direct force head: energy E (readout of s) and forces F_i = g(s_i) (v_i W_F) (N, 3).

    The forces are an equivariant output of their own, not -dE/dpos; training fits both
    (``Model.loss_and_grads``: one forward and one backward pass, no second derivative). Arguments as PaiNN.
    """

    OUTPUTS = {"energy": "graph_scalar", "forces": "atom_vector"}


def schnetpack_state_dict(model):
    """``model.params`` under schnetpack 2's names (NeuralNetworkPotential with PaiNN and Atomwise), weights
    transposed to torch's (out, in); load with ``load_state_dict({k: torch.tensor(v) ...}, strict=False)``
    (atomref and the direct head have no counterpart there and are left out)."""
    out = {}
    for name, value in model.params.items():
        if name == "atomref" or name.startswith("direct_forces."):
            continue
        key = "output_modules.0.outnet." + name[len("readout."):] if name.startswith("readout.") \
            else "representation." + name
        key = key.replace("embedding", "embedding.weight").replace(".W", ".weight").replace(".b", ".bias")
        out[key] = value.T if name.endswith(".W") else value
    return out
