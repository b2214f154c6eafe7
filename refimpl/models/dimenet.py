"""A compact DimeNet (Gasteiger, Gross, Guennemann 2020): invariant messages on directed edges that
see distances and angles (book: Angles and directional message passing).

Edges follow the book: row 0 of ``edge_index`` is the source j, row 1 the target i, r_ji = x_j - x_i.
Every directed edge j -> i carries a message m_ji (H features); a triplet k -> j -> i (k != i,
``refimpl.geometry.triplets``) lets m_kj update m_ji through the angle alpha_kji at j:

- basis:       e(d) radial (u(x)/x) sin(f_n x) (``nn.bessel``); a(d_kj, alpha_kji) spherical (``nn.angular``)
- embedding:   m_ji = silu([h_i, h_j, silu(e_ji W_e + b_e)] W + b),  h = embedding[Z]
- interaction: x_ji = silu(m_ji W_ji + b_ji),  x_kj = silu(m_kj W_kj + b_kj) * (e_kj W_rbf)
               m_ji <- m_ji + silu([x_ji + sum_k bilinear(a_kji W_sbf, x_kj)] W_lin + b_lin)
               bilinear(s, x)_o = sum_{b,h} s_b x_h W[b, h, o]                     (`eq-bilinear`)
- output:      t_i = sum_j (e_ji W_o) * m_ji;  E_i = silu(t_i W_0 + b_0) W_1, after the embedding and
               after every interaction, summed; E_g = sum_{i in g} E_i + atomref[Z_i]

The bilinear layer is one matrix product: the outer product s (x) x of each triplet, (T, B*H),
times W reshaped to (B*H, H). Forces are -dE/dpos by the hand-written backward.

What it leaves out of DimeNet: the residual layers around the skip connection of every
interaction (DimeNet: one before, two after), the three hidden layers of each output block
(here one), 6 blocks and 128 features (here 2 and 64 by default). Of DimeNet++ it has none of the
changes (down-/up-projection of the triplet messages to int_emb_size, basis embeddings
basis_emb_size, a Hadamard product instead of the bilinear layer, out_emb_channels).
The angle is the paper's alpha_kji at the shared atom j, cos = (x_i - x_j).(x_k - x_j)/(...);
PyG's DimeNet measures it at i between x_j - x_i and x_k - x_i (kept for its pretrained
weights), and PyG's DimeNet++ between x_j - x_i and x_k - x_j, which is pi - alpha_kji
(P_l flips sign for odd l). Weights map one to one, the outputs only after that change.

Parameter names (ours -> PyG ``torch_geometric.nn.models.DimeNet``; our W is (in, out) = weight.T):

| ours                                   | PyG                                             |
| -------------------------------------- | ----------------------------------------------- |
| rbf.freq (K,)                          | rbf.freq                                        |
| emb.emb (max_z, H)                     | emb.emb.weight                                  |
| emb.lin_rbf.W / .b, emb.lin.W / .b     | emb.lin_rbf.weight / .bias, emb.lin.weight / .bias |
| interaction_blocks.t.lin_rbf.W         | interaction_blocks.t.lin_rbf.weight (no bias)   |
| interaction_blocks.t.lin_sbf.W         | interaction_blocks.t.lin_sbf.weight (no bias)   |
| interaction_blocks.t.lin_kj.W / .b     | interaction_blocks.t.lin_kj.weight / .bias      |
| interaction_blocks.t.lin_ji.W / .b     | interaction_blocks.t.lin_ji.weight / .bias      |
| interaction_blocks.t.W (B, H, H)       | interaction_blocks.t.W (H, B, H), permuted (1, 2, 0) |
| interaction_blocks.t.lin.W / .b        | interaction_blocks.t.lin.weight / .bias         |
| output_blocks.t.lin_rbf.W              | output_blocks.t.lin_rbf.weight (no bias)        |
| output_blocks.t.lins.0.W / .b          | output_blocks.t.lins.0.weight / .bias           |
| output_blocks.t.lin.W (H, 1)           | output_blocks.t.lin.weight (no bias)            |
| atomref (max_z,)                       | none (PyG's DimeNet has no per-element offset)  |
"""
import numpy as np

from refimpl.core import init
from refimpl.core.scatter import _segment_sum, scatter_sum_backward, scatter_sum_forward
from refimpl.core.validate import check_like
from refimpl.geometry import displacement_backward, displacement_forward, distance_backward, distance_forward
from refimpl.geometry.triplets import triplet_cosine_backward, triplet_cosine_forward, triplets
from refimpl.models.base import (Model, atomref_backward, atomref_forward, check_doutput, check_sizes,
                                 register_model)
from refimpl.nn.angular import spherical_basis_backward, spherical_basis_forward
from refimpl.nn.bessel import bessel_rbf_backward, bessel_rbf_forward, spherical_jn_zeros


# ----------------------------------------------------------------------------- dense + SiLU
def _dense_silu(x, W, b):
    """silu(x W + b) and its cache (the sandwich every block uses)."""
    a = x @ W + b
    s = np.exp(-np.logaddexp(0.0, -a))                          # sigmoid without overflow
    return a * s, (x, W, a, s)


def _dense_silu_back(dy, cache):
    """Returns (dx, dW, db) of ``_dense_silu``."""
    x, W, a, s = cache
    da = dy * (s + a * s * (1.0 - s))
    return da @ W.T, x.reshape(-1, x.shape[-1]).T @ da.reshape(-1, da.shape[-1]), da.sum(axis=0)


# ----------------------------------------------------------------------------- bilinear
def bilinear_forward(sbf, x, W):
    """``out_to = sum_{b,h} sbf_tb x_th W[b, h, o]`` (`eq-bilinear`) as one product (T, B*H) @ (B*H, O).

    sbf: (T, B); x: (T, H); W: (B, H, O). Returns out: (T, O).
    """
    if sbf.ndim != 2 or x.ndim != 2 or W.shape[:2] != (sbf.shape[1], x.shape[1]) or sbf.shape[0] != x.shape[0]:
        raise ValueError(f"W: expected shape (B, H, O) with sbf (T, B) and x (T, H), got W {W.shape}, "
                         f"sbf {sbf.shape}, x {x.shape}")
    B, H, O = W.shape
    outer = (sbf[:, :, None] * x[:, None, :]).reshape(x.shape[0], B * H)
    return outer @ W.reshape(B * H, O), (sbf, x, W, outer)


def bilinear_backward(dout, cache, *, check_finite=True):
    """dout: (T, O). Returns (dsbf (T, B), dx (T, H), dW (B, H, O))."""
    sbf, x, W, outer = cache
    dout = check_like("dout", dout, (x.shape[0], W.shape[2]), check_finite)
    dW = (outer.T @ dout).reshape(W.shape)
    B, H, O = W.shape
    douter = (dout @ W.reshape(B * H, O).T).reshape(x.shape[0], B, H)
    return np.einsum("tbh,th->tb", douter, x), np.einsum("tbh,tb->th", douter, sbf), dW


# ----------------------------------------------------------------------------- embedding block
def embedding_block_forward(h, rbf, edge_index, W_rbf, b_rbf, W, b):
    """``m_ji = silu([h_i, h_j, silu(e_ji W_rbf + b_rbf)] W + b)``.

    h: (N, H) atom embeddings; rbf: (E, K); edge_index: (2, E); W_rbf: (K, H); W: (3H, H).
    Returns m: (E, H).
    """
    r, c_r = _dense_silu(rbf, W_rbf, b_rbf)
    j, i = edge_index
    m, c_m = _dense_silu(np.concatenate([h[i], h[j], r], axis=1), W, b)
    return m, (c_r, c_m, edge_index, h.shape)


def embedding_block_backward(dm, cache, *, check_finite=True):
    """dm: (E, H). Returns (dh (N, H), drbf (E, K), dW_rbf, db_rbf, dW, db)."""
    c_r, c_m, (j, i), h_shape = cache
    dcat, dW, db = _dense_silu_back(check_like("dm", dm, c_m[2].shape, check_finite), c_m)
    H = h_shape[1]
    dh = _segment_sum(np.concatenate([dcat[:, :H], dcat[:, H:2 * H]]), np.concatenate([i, j]), h_shape[0])
    drbf, dW_rbf, db_rbf = _dense_silu_back(dcat[:, 2 * H:], c_r)
    return dh, drbf, dW_rbf, db_rbf, dW, db


# ----------------------------------------------------------------------------- interaction block
INTERACTION_KEYS = ("lin_rbf.W", "lin_sbf.W", "lin_kj.W", "lin_kj.b", "lin_ji.W", "lin_ji.b", "W", "lin.W", "lin.b")


def interaction_block_forward(m, rbf, sbf, idx_kj, idx_ji, W_rbf, W_sbf, W_kj, b_kj, W_ji, b_ji, W_bil, W_lin, b_lin):
    """Directional message update (module docstring, interaction).

    m: (E, H); rbf: (E, K); sbf: (T, L*K); idx_kj, idx_ji: (T,); W_rbf: (K, H); W_sbf: (L*K, B);
    W_kj, W_ji: (H, H); W_bil: (B, H, H); W_lin: (H, H); biases (H,). Returns the new m: (E, H).
    """
    g_rbf, g_sbf = rbf @ W_rbf, sbf @ W_sbf
    x_ji, c_ji = _dense_silu(m, W_ji, b_ji)
    s_kj, c_kj = _dense_silu(m, W_kj, b_kj)
    x_kj = s_kj * g_rbf
    t, c_bil = bilinear_forward(g_sbf, x_kj[idx_kj], W_bil)
    hsum = x_ji + _segment_sum(t, idx_ji, m.shape[0])
    v, c_v = _dense_silu(hsum, W_lin, b_lin)
    return m + v, (rbf, sbf, g_rbf, g_sbf, c_ji, s_kj, c_kj, x_kj, c_bil, c_v, idx_kj, idx_ji, W_rbf, W_sbf)


def interaction_block_backward(dout, cache, *, check_finite=True):
    """dout: (E, H). Returns (dm, drbf, dsbf, dW_rbf, dW_sbf, dW_kj, db_kj, dW_ji, db_ji, dW_bil, dW_lin, db_lin)."""
    rbf, sbf, g_rbf, g_sbf, c_ji, s_kj, c_kj, x_kj, c_bil, c_v, idx_kj, idx_ji, W_rbf, W_sbf = cache
    dout = check_like("dout", dout, x_kj.shape, check_finite)
    dhsum, dW_lin, db_lin = _dense_silu_back(dout, c_v)
    dg_sbf, dx_kj_t, dW_bil = bilinear_backward(dhsum[idx_ji], c_bil, check_finite=False)
    dx_kj = _segment_sum(dx_kj_t, idx_kj, x_kj.shape[0])
    dm_kj, dW_kj, db_kj = _dense_silu_back(dx_kj * g_rbf, c_kj)
    dm_ji, dW_ji, db_ji = _dense_silu_back(dhsum, c_ji)
    dg_rbf = dx_kj * s_kj
    return (dout + dm_kj + dm_ji, dg_rbf @ W_rbf.T, dg_sbf @ W_sbf.T, rbf.T @ dg_rbf, sbf.T @ dg_sbf,
            dW_kj, db_kj, dW_ji, db_ji, dW_bil, dW_lin, db_lin)


# ----------------------------------------------------------------------------- output block
OUTPUT_KEYS = ("lin_rbf.W", "lins.0.W", "lins.0.b", "lin.W")


def output_block_forward(m, rbf, edge_index, num_nodes, W_rbf, W0, b0, W1):
    """Atom energies ``E_i = silu((sum_j (e_ji W_rbf) * m_ji) W0 + b0) W1``.

    m: (E, H); rbf: (E, K); edge_index: (2, E); W_rbf: (K, H); W0: (H, H); W1: (H, 1). Returns (N,).
    """
    g = rbf @ W_rbf
    t = _segment_sum(g * m, edge_index[1], num_nodes)
    s, c_s = _dense_silu(t, W0, b0)
    return (s @ W1)[:, 0], (m, rbf, g, c_s, s, W_rbf, W1, edge_index[1])


def output_block_backward(dE, cache, *, check_finite=True):
    """dE: (N,). Returns (dm (E, H), drbf (E, K), dW_rbf, dW0, db0, dW1)."""
    m, rbf, g, c_s, s, W_rbf, W1, i = cache
    dE = check_like("dE", dE, (s.shape[0],), check_finite)
    dt, dW0, db0 = _dense_silu_back(dE[:, None] @ W1.T, c_s)
    dgm = dt[i]
    return dgm * g, (dgm * m) @ W_rbf.T, rbf.T @ (dgm * m), dW0, db0, s.T @ dE[:, None]


# ----------------------------------------------------------------------------- the model
EMB_KEYS = ("emb.lin_rbf.W", "emb.lin_rbf.b", "emb.lin.W", "emb.lin.b")


@register_model("dimenet")
class DimeNet(Model):
    """Compact DimeNet energy model E(Z, pos) with forces -dE/dpos (module docstring).

    hidden_channels: H; num_blocks: interaction blocks; num_bilinear: B; num_spherical: L;
    num_radial: K; cutoff: r_c (Angstrom); envelope_p: p of the envelope (DimeNet's
    envelope_exponent 5 = p 6); max_z: atomic numbers 1 <= Z < max_z; seed: initialization
    (Glorot-uniform weights, zero biases, embedding U(-sqrt 3, sqrt 3), bilinear N(0, (2/H)^2) as PyG).
    """

    def __init__(self, hidden_channels=64, num_blocks=2, num_bilinear=8, num_spherical=7, num_radial=6,
                 cutoff=5.0, envelope_p=6, max_z=100, seed=0):
        super().__init__(cutoff, max_z)
        check_sizes(hidden_channels=(hidden_channels, 1), num_blocks=(num_blocks, 1), num_bilinear=(num_bilinear, 1),
                    num_spherical=(num_spherical, 1), num_radial=(num_radial, 1), envelope_p=(envelope_p, 1))
        spherical_jn_zeros(num_spherical, num_radial)                 # validates num_spherical <= L_MAX
        self.H, self.T, self.B = int(hidden_channels), int(num_blocks), int(num_bilinear)
        self.L, self.K, self.p, self.seed = int(num_spherical), int(num_radial), int(envelope_p), seed
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        return {"hidden_channels": self.H, "num_blocks": self.T, "num_bilinear": self.B,
                "num_spherical": self.L, "num_radial": self.K, "cutoff": self.cutoff, "envelope_p": self.p,
                "max_z": self.max_z, "seed": self.seed}

    def _init_params(self, rng):
        H, K, B, LK = self.H, self.K, self.B, self.L * self.K
        g = lambda n_in, n_out: init.glorot_uniform(rng, n_in, n_out)
        p = {"rbf.freq": np.arange(1, K + 1) * np.pi, "emb.emb": rng.uniform(-np.sqrt(3), np.sqrt(3), (self.max_z, H)),
             "emb.lin_rbf.W": g(K, H), "emb.lin_rbf.b": init.zeros(H), "emb.lin.W": g(3 * H, H), "emb.lin.b": init.zeros(H)}
        for t in range(self.T):
            q = f"interaction_blocks.{t}."
            p.update({q + "lin_rbf.W": g(K, H), q + "lin_sbf.W": g(LK, B), q + "lin_kj.W": g(H, H),
                      q + "lin_kj.b": init.zeros(H), q + "lin_ji.W": g(H, H), q + "lin_ji.b": init.zeros(H),
                      q + "W": rng.normal(0.0, 2.0 / H, (B, H, H)), q + "lin.W": g(H, H), q + "lin.b": init.zeros(H)})
        for t in range(self.T + 1):
            q = f"output_blocks.{t}."
            p.update({q + "lin_rbf.W": g(K, H), q + "lins.0.W": g(H, H), q + "lins.0.b": init.zeros(H),
                      q + "lin.W": g(H, 1)})
        p["atomref"] = init.zeros(self.max_z)
        return p

    # --------------------------------------------------------------------- forward / backward
    def forward(self, Z, pos, batch, edge_index, num_graphs):
        """Energies {"energy": (G,)} of validated inputs on a given graph; returns (outputs, cache)."""
        P, N = self.params, pos.shape[0]
        idx_kj, idx_ji = triplets(edge_index, N)
        r, c_r = displacement_forward(pos, edge_index)
        d, c_d = distance_forward(r)
        cos, c_cos = triplet_cosine_forward(r, idx_kj, idx_ji)
        rbf, c_rbf = bessel_rbf_forward(d, P["rbf.freq"], self.cutoff, self.p)
        sbf, c_sbf = spherical_basis_forward(d, cos, idx_kj, self.cutoff, self.L, self.K, self.p)
        m, c_emb = embedding_block_forward(P["emb.emb"][Z], rbf, edge_index, *(P[k] for k in EMB_KEYS))
        out_args = (edge_index, N)
        e_atom, c_out = output_block_forward(m, rbf, *out_args, *(P[f"output_blocks.0.{k}"] for k in OUTPUT_KEYS))
        c_outs, c_ints = [c_out], []
        for t in range(self.T):
            m, c = interaction_block_forward(m, rbf, sbf, idx_kj, idx_ji,
                                             *(P[f"interaction_blocks.{t}.{k}"] for k in INTERACTION_KEYS))
            c_ints.append(c)
            e_t, c = output_block_forward(m, rbf, *out_args, *(P[f"output_blocks.{t + 1}.{k}"] for k in OUTPUT_KEYS))
            e_atom, c_outs = e_atom + e_t, c_outs + [c]
        E, c_sum = scatter_sum_forward(e_atom, batch, num_graphs)
        E0, c_ref = atomref_forward(P["atomref"], Z, batch, num_graphs)
        cache = (c_r, c_d, c_cos, c_rbf, c_sbf, c_emb, c_outs, c_ints, c_sum, c_ref, Z, num_graphs)
        return {"energy": E + E0}, cache

    def backward(self, doutputs, cache):
        """Given {"energy": dL/dE (G,)}, returns (grads dict shaped like params, dL/dpos (N, 3))."""
        c_r, c_d, c_cos, c_rbf, c_sbf, c_emb, c_outs, c_ints, c_sum, c_ref, Z, G = cache
        dE = check_doutput("doutputs['energy']", self._doutputs(**doutputs).get("energy"), (G,))
        fast = {"check_finite": False}
        grads = {"atomref": atomref_backward(dE, c_ref)}
        de_atom = scatter_sum_backward(dE, c_sum, **fast)
        drbf, dsbf = 0.0, 0.0
        dm = 0.0
        for t in reversed(range(self.T + 1)):
            dm_t, drbf_t, *g = output_block_backward(de_atom, c_outs[t], **fast)
            grads.update((f"output_blocks.{t}.{k}", v) for k, v in zip(OUTPUT_KEYS, g))
            dm, drbf = dm + dm_t, drbf + drbf_t
            if t == 0:
                break
            dm, drbf_t, dsbf_t, *g = interaction_block_backward(dm, c_ints[t - 1], **fast)
            grads.update((f"interaction_blocks.{t - 1}.{k}", v) for k, v in zip(INTERACTION_KEYS, g))
            drbf, dsbf = drbf + drbf_t, dsbf + dsbf_t
        dh, drbf_e, *g = embedding_block_backward(dm, c_emb, **fast)
        grads.update(zip(EMB_KEYS, g))
        grads["emb.emb"] = _segment_sum(dh, Z, self.max_z)
        dd, dfreq = bessel_rbf_backward(drbf + drbf_e, c_rbf, **fast)
        grads["rbf.freq"] = dfreq
        dd_s, dcos = spherical_basis_backward(dsbf, c_sbf, **fast)
        dr = distance_backward(dd + dd_s, c_d, **fast) + triplet_cosine_backward(dcos, c_cos, **fast)
        return grads, displacement_backward(dr, c_r, **fast)
