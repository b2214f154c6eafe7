"""A GVP-GNN interatomic potential: energies E(Z, pos) and forces -dE/dpos, on the model base.

Architecture (gvp-pytorch's ATOM3D ``BaseModel`` in ``gvp/atom3d.py``, with the changes listed below):

- edges: r_ij = x_j - x_i; scalars = 16 Gaussians of d_ij, vector = the unit vector r_ij / d_ij;
  (e_ij, E_ij) = W_e(rbf, u_ij), one GVP without activations, vector-gated;
- atoms: s_i = embedding[Z_i], V_i = 0 (C zero vector channels);
- T GVPConvLayers (post-norm: x = LN(x + conv(x)), x = LN(x + ff(x))), 3 message GVPs each;
- readout: s_i = W_out(s_i, V_i) (a GVP to scalars only), e_i = dense(s_i) (Linear-SiLU-Linear),
  E_g = sum_{i in g} (e_i + atomref[Z_i]).

Changes from the reference, all made because this model is trained on forces with a finite-difference
Hessian-vector product (``Model.loss_and_grads``), which differentiates the forces dE/dpos once more
along a direction of positions: the energy must be smooth (twice differentiable) in the positions.

- SiLU instead of ReLU: with ReLU the forces contain relu'(x), a step, so they jump wherever a unit
  switches, and the central difference of the parameter gradient across a jump is O(1/h), not the
  second derivative; MD with such forces does not conserve energy either.
- smooth norms sqrt(|v|^2 + 1e-8) (and in the vector layer norm) instead of GVP's clamp, whose gradient
  jumps to 0 below norm 1e-4 (the zero-initialized atom vectors sit exactly there);
- messages weighted by the cosine cutoff of d_ij and summed, divided by a constant ``avg_neighbors``,
  instead of gvp-pytorch's unweighted mean: the mean jumps when an atom crosses the cutoff radius (the
  count changes), the weighted sum goes to zero smoothly; a sum also keeps the energy extensive;
- the Gaussians are ours (``refimpl.nn.radial``, exp(-(d - mu)^2 / (2 sigma^2)), centres 0..r_c) where
  gvp-pytorch uses exp(-((d - mu)/sigma)^2) with centres 0..20 Angstrom; atom types enter by an embedding
  table instead of a one-hot GVP; no dropout, no LayerNorm before W_e and W_out.

Parameter names (ours -> gvp-pytorch atom3d ``BaseModel``; W = torch weight.T, block names as in
``refimpl.models.gvp``): W_e.* -> W_e.1.*, layers.t.* -> layers.t.*, W_out.* -> W_out.1.*,
dense.0/3.W, .b -> dense.0/3.weight, .bias; embedding (max_z, S) and atomref (max_z,) are ours.
"""
import numpy as np

from refimpl.core import init
from refimpl.core.layers import activation, linear_backward, linear_forward
from refimpl.core.scatter import gather_backward, gather_forward, scatter_sum_backward, scatter_sum_forward
from refimpl.core.validate import check_flag, check_number, check_positive_int
from refimpl.geometry import (displacement_backward, displacement_forward, distance_backward, distance_forward,
                              unit_vector_backward, unit_vector_forward)
from refimpl.models import base, gvp
from refimpl.models.base import Model, atomref_backward, atomref_forward, check_doutput, check_sizes, register_model
from refimpl.nn.cutoffs import cosine_cutoff_backward, cosine_cutoff_forward
from refimpl.nn.radial import gaussian_rbf_backward, gaussian_rbf_forward

SMOOTH = {"acts": ("silu", "sigmoid"), "vector_gate": True, "clamp": False}
REFERENCE = {"acts": ("relu", "sigmoid"), "vector_gate": True, "clamp": True}


@register_model("gvp")
class GVPModel(Model):
    """GVP-GNN energy model. node_dims: (S, C) scalar and vector channels per atom; edge_dims: (S_e, C_e);
    n_rbf: Gaussians; n_layers: T; cutoff: r_c (Angstrom); avg_neighbors: the sum's divisor; max_z: Z < max_z;
    seed: initialization (Glorot weights, zero biases, N(0, 1) embedding); smooth: False swaps in gvp-pytorch's
    choices (ReLU, the norm clamp, the unweighted mean), to show in the book why a potential avoids them."""

    OUTPUTS = {"energy": "graph_scalar"}

    def __init__(self, node_dims=(16, 4), edge_dims=(16, 1), n_rbf=16, n_layers=2, cutoff=5.0, avg_neighbors=8.0,
                 max_z=100, seed=0, smooth=True):
        super().__init__(cutoff, max_z)
        for name, dims in [("node_dims", node_dims), ("edge_dims", edge_dims)]:
            if not isinstance(dims, (tuple, list)) or len(dims) != 2:
                raise ValueError(f"{name}: expected (scalar channels, vector channels), got {dims!r}")
        self.node_dims = tuple(check_positive_int("node_dims", d) for d in node_dims)
        self.edge_dims = tuple(check_positive_int("edge_dims", d) for d in edge_dims)
        check_sizes(n_rbf=(n_rbf, 2), n_layers=(n_layers, 1))
        self.n_rbf, self.n_layers, self.seed = int(n_rbf), int(n_layers), seed
        self.avg_neighbors = check_number("avg_neighbors", avg_neighbors, low=0.0, low_inclusive=False)
        self.smooth = check_flag("smooth", smooth)
        self._blocks = SMOOTH if self.smooth else REFERENCE
        self._act = activation(self._blocks["acts"][0])
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        return {"node_dims": self.node_dims, "edge_dims": self.edge_dims, "n_rbf": self.n_rbf,
                "n_layers": self.n_layers, "cutoff": self.cutoff, "avg_neighbors": self.avg_neighbors,
                "max_z": self.max_z, "seed": self.seed, "smooth": self.smooth}

    def _init_params(self, rng):
        (S, C), E = self.node_dims, self.edge_dims
        p = {"embedding": rng.normal(size=(self.max_z, S))}
        p.update(base.prefixed("W_e.", gvp.init_gvp(rng, (self.n_rbf, 1), E, vector_gate=True)))
        for t in range(self.n_layers):
            p.update(base.prefixed(f"layers.{t}.", gvp.init_gvp_conv_layer(rng, (S, C), E)))
        p.update(base.prefixed("W_out.", gvp.init_gvp(rng, (S, C), (S, 0), vector_gate=True)))
        p["dense.0.W"], p["dense.0.b"] = init.glorot_uniform(rng, S, 2 * S), init.zeros(2 * S)
        p["dense.3.W"], p["dense.3.b"] = init.glorot_uniform(rng, 2 * S, 1), init.zeros(1)
        p["atomref"] = init.zeros(self.max_z)
        return p

    def forward(self, Z, pos, batch, edge_index, num_graphs):
        """Energies {"energy": (G,)} of validated inputs on the graph ``edge_index``; returns (outputs, cache)."""
        p, (S, C) = self.params, self.node_dims
        r, c_r = displacement_forward(pos, edge_index)
        d, c_d = distance_forward(r)
        u, c_u = unit_vector_forward(r)
        rbf, c_rbf = gaussian_rbf_forward(d, self.n_rbf, self.cutoff)
        fcut, c_cut = cosine_cutoff_forward(d, self.cutoff)
        clamp, agg = self._blocks["clamp"], ({"aggr": "sum", "edge_weight": fcut / self.avg_neighbors} if self.smooth
                                             else {"aggr": "mean"})
        (es, eV), c_e = gvp.gvp_forward(rbf, u[:, None, :], base.subdict(p, "W_e."), None, None, True, clamp)
        s, c_emb = gather_forward(p["embedding"], Z)
        V, c_layers = np.zeros((len(Z), C, 3)), []
        for t in range(self.n_layers):
            (s, V), c = gvp.gvp_conv_layer_forward(s, V, edge_index, es, eV, base.subdict(p, f"layers.{t}."),
                                                   **self._blocks, **agg)
            c_layers.append(c)
        (s, _), c_out = gvp.gvp_forward(s, V, base.subdict(p, "W_out."), *self._blocks["acts"], True, clamp)
        h, c_h = linear_forward(s, p["dense.0.W"], p["dense.0.b"])
        a, c_a = self._act[0](h)
        e, c_o = linear_forward(a, p["dense.3.W"], p["dense.3.b"])
        E, c_E = scatter_sum_forward(e[:, 0], batch, num_graphs)
        E0, c_ref = atomref_forward(p["atomref"], Z, batch, num_graphs)
        return {"energy": E + E0}, (c_r, c_d, c_u, c_rbf, c_cut, c_e, c_emb, c_layers, c_out, c_h, c_a, c_o, c_E, c_ref)

    def backward(self, doutputs, cache):
        """Given {"energy": dL/dE (G,)}, returns (grads shaped like params, dL/dpos (N, 3))."""
        c_r, c_d, c_u, c_rbf, c_cut, c_e, c_emb, c_layers, c_out, c_h, c_a, c_o, c_E, c_ref = cache
        dE = check_doutput("dE", doutputs.get("energy"), c_E[1])
        fast = {"check_finite": False}
        grads = {"atomref": atomref_backward(dE, c_ref, **fast)}
        de = scatter_sum_backward(dE, c_E, **fast)
        da, grads["dense.3.W"], grads["dense.3.b"] = linear_backward(de[:, None], c_o, **fast)
        ds, grads["dense.0.W"], grads["dense.0.b"] = linear_backward(self._act[1](da, c_a), c_h, **fast)
        ds, dV, g = gvp.gvp_backward((ds, np.zeros((len(ds), 0, 3))), c_out, **fast)
        grads.update(base.prefixed("W_out.", g))
        des, deV, dw = 0.0, 0.0, 0.0
        for t in reversed(range(self.n_layers)):
            ds, dV, des_t, deV_t, dw_t, g = gvp.gvp_conv_layer_backward((ds, dV), c_layers[t], **fast)
            des, deV, dw = des + des_t, deV + deV_t, dw + (0.0 if dw_t is None else dw_t)
            grads.update(base.prefixed(f"layers.{t}.", g))
        grads["embedding"] = gather_backward(ds, c_emb, **fast)
        drbf, du, g = gvp.gvp_backward((des, deV), c_e, **fast)
        grads.update(base.prefixed("W_e.", g))
        dd = gaussian_rbf_backward(drbf, c_rbf, **fast)
        if self.smooth:
            dd = dd + cosine_cutoff_backward(dw / self.avg_neighbors, c_cut, **fast)
        dr = distance_backward(dd, c_d, **fast) + unit_vector_backward(du[:, 0, :], c_u)
        return grads, displacement_backward(dr, c_r, **fast)
