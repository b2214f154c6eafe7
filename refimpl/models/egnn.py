"""EGNN (Satorras, Hoogeboom, Welling 2021) as an interatomic potential, with an equivariant vector output.

The layers are ``refimpl.models.egnn_layers`` (book: EGNN, `eq-egnn`). The model:

    h^0_i = embedding[Z_i],  x^0_i = pos_i - (centroid of i's molecule)
    a_ij = Gaussians of the input distances |pos_j - pos_i| (optional, n_rbf of them; none by default)
    (h^{t+1}, x^{t+1}) = EGNN layer t (h^t, x^t; a_ij) on the radius graph of pos   (t = 0 .. T-1)
    E_g = sum_{i in g} [ssp(h^T_i W0 + b0) W1 + b1] + sum_{i in g} atomref[Z_i]   (SchNet's readout)
    positions_update_i = x^T_i - x^0_i                                            (N, 3), a polar vector

Outputs: ``energy`` (G,) eV, invariant; ``positions_update`` (N, 3), equivariant (it rotates and
reflects with the molecule and ignores translations): the vector output an invariant model cannot
have. Forces F = -dE/dpos come from the hand-written backward, which runs through every coordinate
update (layer t's new positions set layer t+1's distances), not only through the first distances,
and through the edge attributes to the input distances.

Centering changes nothing mathematically (every layer sees only differences x_j - x_i); it keeps
the coordinates of size ~1 Angstrom, so that positions_update = x^T - x^0 (updates of order 1e-3 Angstrom
at initialization) keeps full precision for a molecule placed at 1e4 Angstrom.

The graph is the radius graph of the input positions, fixed through the layers (the reference takes
the graph as input). Unlike SchNet there is no cutoff envelope, as in the reference: an edge entering
or leaving the cutoff changes the energy by a jump (the message sum and the in-degree jump). On ethanol
with the default 5 Angstrom every pair of atoms is within the cutoff, so the graph never changes there.

Parameter names and the reference (vgsatorras/egnn ``models/egnn_clean/egnn_clean.py``, class ``EGNN``;
our W is (in, out), the torch ``weight`` is W.T):

| ours                          | egnn_clean                                   |
| ----------------------------- | -------------------------------------------- |
| embedding (max_z, F)          | embedding_in.weight.T + bias, on one-hot Z   |
| gcl_t.edge_mlp.0.W / .b       | gcl_t.edge_mlp.0.weight / .bias (2F+1+K -> F)|
| gcl_t.edge_mlp.2.W / .b       | gcl_t.edge_mlp.2.weight / .bias  (F -> F)    |
| gcl_t.coord_mlp.0.W / .b      | gcl_t.coord_mlp.0.weight / .bias (F -> F)    |
| gcl_t.coord_mlp.2.W (no bias) | gcl_t.coord_mlp.2.weight         (F -> 1)    |
| gcl_t.node_mlp.0.W / .b       | gcl_t.node_mlp.0.weight / .bias  (2F -> F)   |
| gcl_t.node_mlp.2.W / .b       | gcl_t.node_mlp.2.weight / .bias  (F -> F)    |
| readout.0.W / .b, readout.1.W / .b, atomref | none: embedding_out is one Linear; ours is SchNet's readout |

Initialization: Glorot-uniform weights and zero biases (torch's default is a different uniform), the
last coordinate layer Glorot-uniform with gain 0.001 as in the reference, an N(0, 1) embedding.
"""
import numpy as np

from refimpl.core import init
from refimpl.core.scatter import gather_backward, gather_forward, scatter_mean_forward
from refimpl.core.validate import check_flag, check_nonnegative_int
from refimpl.models.base import (Model, atomref_backward, atomref_forward, check_doutput, check_sizes,  # noqa: F401
                                 fit_atomref, prefixed, register_model, subdict)
from refimpl.geometry import displacement_backward, displacement_forward, distance_backward, distance_forward
from refimpl.models.egnn_layers import egnn_layer_backward, egnn_layer_forward
from refimpl.models.schnet import readout_backward, readout_forward
from refimpl.nn.radial import gaussian_rbf_backward, gaussian_rbf_forward

#: the parameter names of one layer (after its prefix gcl_t.), egnn_clean's E_GCL names
LAYER_KEYS = ("edge_mlp.0.W", "edge_mlp.0.b", "edge_mlp.2.W", "edge_mlp.2.b", "coord_mlp.0.W", "coord_mlp.0.b",
              "coord_mlp.2.W", "node_mlp.0.W", "node_mlp.0.b", "node_mlp.2.W", "node_mlp.2.b")


def _centre(v, batch, num_graphs):
    """``v_a - mean_{b in graph(a)} v_b``. This projection is symmetric, so it is its own backward."""
    return v - scatter_mean_forward(v, batch, num_graphs)[0][batch]


@register_model("egnn")
class EGNN(Model):
    """EGNN energy model with forces -dE/dpos and an equivariant per-atom vector output.

    n_features: F, the width of h and of every hidden layer (egnn_clean's hidden_nf); n_layers: T;
    n_rbf: K >= 2 Gaussians of the input distances d_ij as edge attributes a_ij (the reference's
    edge_attr, in_edge_nf = K), the same in every layer, or 0 for none (the reference's default);
    cutoff: radius of the graph (Angstrom); max_z: atomic numbers 1 <= Z < max_z; tanh: bound phi_x
    by tanh (the reference's option); seed: initialization.
    """

    OUTPUTS = {"energy": "graph_scalar", "positions_update": "atom_vector"}

    def __init__(self, n_features=32, n_layers=4, n_rbf=0, cutoff=5.0, max_z=100, tanh=False, seed=0):
        check_sizes(n_features=(n_features, 2), n_layers=(n_layers, 1))
        if check_nonnegative_int("n_rbf", n_rbf) == 1:
            raise ValueError("n_rbf: expected 0 (no edge attributes) or at least 2 Gaussians, got 1")
        super().__init__(cutoff, max_z)
        self.n_features, self.n_layers, self.n_rbf = n_features, n_layers, int(n_rbf)
        self.tanh, self.seed = check_flag("tanh", tanh), seed
        self.params = self._init_params(np.random.default_rng(seed))

    def config(self):
        return {"n_features": self.n_features, "n_layers": self.n_layers, "n_rbf": self.n_rbf, "cutoff": self.cutoff,
                "max_z": self.max_z, "tanh": self.tanh, "seed": self.seed}

    def _init_params(self, rng):
        F = self.n_features
        p = {"embedding": rng.normal(size=(self.max_z, F))}
        shapes = {"edge_mlp.0.W": (2 * F + 1 + self.n_rbf, F), "edge_mlp.2.W": (F, F), "coord_mlp.0.W": (F, F),
                  "coord_mlp.2.W": (F, 1), "node_mlp.0.W": (2 * F, F), "node_mlp.2.W": (F, F)}
        for t in range(self.n_layers):
            for key in LAYER_KEYS:
                if key.endswith(".W"):
                    gain = 0.001 if key == "coord_mlp.2.W" else 1.0
                    p[f"gcl_{t}.{key}"] = gain * init.glorot_uniform(rng, *shapes[key])
                else:
                    p[f"gcl_{t}.{key}"] = init.zeros(shapes[key[:-1] + "W"][1])
        p["readout.0.W"], p["readout.0.b"] = init.glorot_uniform(rng, F, F // 2), init.zeros(F // 2)
        p["readout.1.W"], p["readout.1.b"] = init.glorot_uniform(rng, F // 2, 1), init.zeros(1)
        p["atomref"] = init.zeros(self.max_z)
        return p

    def _edge_attr(self, pos, edge_index):
        """Gaussians of the input distances, (E, K), and their cache; (None, None) when n_rbf = 0."""
        if not self.n_rbf:
            return None, None
        r, c_r = displacement_forward(pos, edge_index)
        d, c_d = distance_forward(r)
        a, c_a = gaussian_rbf_forward(d, self.n_rbf, self.cutoff)
        return a, (c_r, c_d, c_a)

    def _layers(self, h, x, edge_index, edge_attr):
        """Run the T layers; returns (h^T, x^T, their caches)."""
        caches = []
        for t in range(self.n_layers):
            (h, x), c = egnn_layer_forward(h, x, edge_index, subdict(self.params, f"gcl_{t}."), self.tanh, edge_attr)
            caches.append(c)
        return h, x, caches

    def features(self, Z, pos, batch=None):
        """The last layer's invariant features h^T (N, F) and centred positions x^T (N, 3) (for analysis)."""
        Z, pos, batch, G = self.check_inputs(Z, pos, batch)
        edge_index = self.graph(pos, batch)
        h, x, _ = self._layers(self.params["embedding"][Z], _centre(pos, batch, G), edge_index,
                               self._edge_attr(pos, edge_index)[0])
        return h, x

    # --------------------------------------------------------------------- forward / backward
    def forward(self, Z, pos, batch, edge_index, num_graphs):
        """Outputs of validated inputs on a given graph: ({"energy" (G,), "positions_update" (N, 3)}, cache)."""
        p = self.params
        x0 = _centre(pos, batch, num_graphs)
        h0, c_emb = gather_forward(p["embedding"], Z)
        edge_attr, c_attr = self._edge_attr(pos, edge_index)
        h, x, c_layers = self._layers(h0, x0, edge_index, edge_attr)
        E, c_out = readout_forward(h, batch, num_graphs, subdict(p, "readout."))
        offset, c_ref = atomref_forward(p["atomref"], Z, batch, num_graphs)
        E = E + offset
        return {"energy": E, "positions_update": x - x0}, (c_emb, c_attr, c_layers, c_out, c_ref, batch, num_graphs, E.shape)

    def backward(self, doutputs, cache):
        """Given dL/d(output) ({"energy": (G,), "positions_update": (N, 3)}, either may be missing),
        returns (grads dict shaped like params, dL/dpos (N, 3)): back through the readout, then
        through every layer's feature and coordinate update, then the centering."""
        c_emb, c_attr, c_layers, c_out, c_ref, batch, G, E_shape = cache
        doutputs = self._doutputs(**doutputs)
        dE = check_doutput("doutputs['energy']", doutputs.get("energy"), E_shape)
        dx = check_doutput("doutputs['positions_update']", doutputs.get("positions_update"), (batch.shape[0], 3))
        fast = {"check_finite": False}
        grads = {"atomref": atomref_backward(dE, c_ref, **fast)}
        dh, g_out = readout_backward(dE, c_out, **fast)
        grads.update(prefixed("readout.", g_out))
        dx0, dattr = -dx, 0.0                            # positions_update = x^T - x^0
        for t in reversed(range(self.n_layers)):
            dh, dx, dattr_t, g = egnn_layer_backward((dh, dx), c_layers[t], **fast)
            grads.update(prefixed(f"gcl_{t}.", g))
            if c_attr is not None:
                dattr = dattr + dattr_t
        grads["embedding"] = gather_backward(dh, c_emb, **fast)
        dpos = _centre(dx + dx0, batch, G)
        if c_attr is not None:                           # the edge attributes' path to the input distances
            c_r, c_d, c_a = c_attr
            dd = gaussian_rbf_backward(dattr, c_a, **fast)
            dpos = dpos + displacement_backward(distance_backward(dd, c_d, **fast), c_r, **fast)
        return grads, dpos
