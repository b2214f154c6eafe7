"""The model base: what every model shares, so that a model file holds only what makes it itself.

A model is a class with

- ``params``: a flat dict of float64 arrays with dotted names (``interactions.0.filter.0.W``) that map
  onto the reference implementation's parameter names (each model's docstring has the table);
- ``OUTPUTS``: what ``forward`` returns, a dict name -> kind, with kinds
  ``"graph_scalar"`` (G,) (an energy), ``"atom_scalar"`` (N,), ``"atom_vector"`` (N, 3) (a polar vector
  per atom: direct forces, a denoiser's noise prediction);
- ``config()``: the constructor arguments, so ``type(model)(**model.config())`` rebuilds it;
- ``forward(Z, pos, batch, edge_index, num_graphs) -> (outputs, cache)`` on validated inputs and
- ``backward(doutputs, cache) -> (grads, dpos)``: given dL/d(output) for each output (a dict; a
  missing output counts as zero), the gradients of every parameter (shaped like ``params``) and dL/dpos.

From these the base gives every model the same public interface: ``energy_and_forces(Z, pos,
batch=None)`` (energies (G,) eV, forces (N, 3) eV/Angstrom: -dE/dpos by the backward pass, or the
model's own "forces" output for a direct-force model), ``predict``, the energy+force loss with its
parameter gradient ``loss_and_grads``, and ``save``; ``load(path)`` rebuilds any registered model and
``fit_atomref`` fits per-element reference energies.
"""
import json

import numpy as np

from refimpl.core.scatter import scatter_sum_backward, scatter_sum_forward
from refimpl.core.validate import as_float_array, as_index_array, check_like, check_positive_int
from refimpl.geometry.radius import radius_graph
from refimpl.geometry.transforms import check_batch

MODELS = {}
OUTPUT_KINDS = ("graph_scalar", "atom_scalar", "atom_vector")


def register_model(name):
    """Class decorator: list the model under ``name`` so ``load`` can rebuild it from a file."""
    def decorate(cls):
        if name in MODELS and MODELS[name] is not cls:
            raise ValueError(f"name: a model named {name!r} is registered already ({MODELS[name].__name__})")
        cls.name = name
        MODELS[name] = cls
        return cls
    return decorate


def check_cutoff(cutoff):
    if isinstance(cutoff, (bool, np.bool_)) or not isinstance(cutoff, (int, float, np.integer, np.floating)) \
            or not 0 < cutoff < np.inf:
        raise ValueError(f"cutoff: expected a finite number > 0 (Angstrom), got {cutoff!r}")
    return float(cutoff)


def check_sizes(**sizes):
    """Each keyword is ``name=(value, lowest)``: raise unless value is an integer >= lowest."""
    for name, (value, lowest) in sizes.items():
        if check_positive_int(name, value) < lowest:
            raise ValueError(f"{name}: expected an integer >= {lowest}, got {value}")


def subdict(params, prefix):
    """The parameters under ``prefix``, renamed without it: ``subdict(p, "readout.")["0.W"] is p["readout.0.W"]``
    (the same arrays, not copies). Blocks take their parameters this way, by name, not by position."""
    return {k[len(prefix):]: v for k, v in params.items() if k.startswith(prefix)}


def prefixed(prefix, grads):
    """The inverse of ``subdict`` for a block's gradient dict: names with ``prefix`` put back."""
    return {prefix + k: v for k, v in grads.items()}


# ----------------------------------------------------------------------------- atom reference energies
def atomref_forward(atomref, Z, batch, num_graphs):
    """Per-element energy offsets summed per graph: ``E0_g = sum_{i in g} atomref[Z_i]``. Returns (G,)."""
    offset, c = scatter_sum_forward(atomref[Z], batch, num_graphs)
    return offset, (c, Z, atomref.shape[0])


def atomref_backward(dE, cache, *, check_finite=True):
    """dE: (G,). Returns d atomref: (max_z,)."""
    c, Z, max_z = cache
    dE = check_like("dE", dE, c[1], check_finite)           # c = (index, output shape) of the scatter
    return np.bincount(Z, weights=scatter_sum_backward(dE, c, check_finite=False), minlength=max_z)


class Model:
    """Base class of every model; see the module docstring for what a subclass provides."""

    OUTPUTS = {"energy": "graph_scalar"}
    name = None

    def __init__(self, cutoff=5.0, max_z=100):
        check_sizes(max_z=(max_z, 2))
        self.cutoff, self.max_z = check_cutoff(cutoff), int(max_z)

    # --------------------------------------------------------------------- what a model provides
    def config(self):
        raise NotImplementedError("a model lists its constructor arguments in config()")

    def forward(self, Z, pos, batch, edge_index, num_graphs):
        raise NotImplementedError

    def backward(self, doutputs, cache):
        raise NotImplementedError

    # --------------------------------------------------------------------- inputs
    def check_inputs(self, Z, pos, batch):
        """Validate; returns (Z (N,), pos (N, 3), batch (N,), number of graphs G)."""
        pos = as_float_array("pos", pos, shape=(None, 3))
        Z = as_index_array("Z", Z)
        if Z.shape[0] != pos.shape[0]:
            raise ValueError(f"Z: expected one atomic number per row of pos ({pos.shape[0]}), got {Z.shape[0]}")
        if Z.size and (Z.min() < 1 or Z.max() >= self.max_z):
            raise ValueError(f"Z: expected atomic numbers in [1, {self.max_z - 1}], got min {Z.min()}, max {Z.max()}")
        if pos.shape[0] == 0:
            raise ValueError("pos: expected at least one atom, got shape (0, 3)")
        batch = np.zeros(pos.shape[0], dtype=np.int64) if batch is None else check_batch(batch, pos.shape[0])
        return Z, pos, batch, int(batch[-1]) + 1

    def graph(self, pos, batch):
        """The edges the model sees: all pairs closer than ``cutoff`` within a graph, (2, E)."""
        return radius_graph(pos, self.cutoff, batch)

    def _doutputs(self, **grads):
        unknown = sorted(set(grads) - set(self.OUTPUTS))
        if unknown:
            raise ValueError(f"doutputs: {type(self).__name__} has no output(s) {unknown}; it has {sorted(self.OUTPUTS)}")
        return grads

    # --------------------------------------------------------------------- public interface
    def predict(self, Z, pos, batch=None):
        """Every output of the model (a dict, see ``OUTPUTS``) at validated inputs."""
        Z, pos, batch, G = self.check_inputs(Z, pos, batch)
        return self.forward(Z, pos, batch, self.graph(pos, batch), G)[0]

    def energy_and_forces(self, Z, pos, batch=None):
        """Energies (G,) in eV and forces (N, 3) in eV/Angstrom.

        Z: (N,) atomic numbers; pos: (N, 3) Angstrom; batch: (N,) sorted graph ids or None (one
        molecule). Forces are -dE/dpos by the backward pass, or the model's "forces" output when it
        predicts them directly (then they need not be a gradient: see chapter 14).
        """
        Z, pos, batch, G = self.check_inputs(Z, pos, batch)
        out, cache = self.forward(Z, pos, batch, self.graph(pos, batch), G)
        if "forces" in self.OUTPUTS:
            return out["energy"], out["forces"]
        _, dpos = self.backward({"energy": np.ones(G)}, cache)
        return out["energy"], -dpos

    def loss_and_grads(self, batch_data, w_energy=1.0, w_forces=1.0, hvp_step=1e-5):
        """Energy + force loss and its gradient with respect to every parameter.

        L = w_E mean_g (E_g - E_g^ref)^2 + w_F mean_{a,k} (F_ak - F_ak^ref)^2

        batch_data: dict with Z (N,), pos (N, 3), batch (N,), E (G,) eV, F (N, 3) eV/Angstrom.
        For a direct-force model (a "forces" output) this is one forward and one backward pass.
        For a conservative model, F = -dE/dpos, and the force term needs
        dF/dtheta = -d^2E/(dpos dtheta), a second derivative: with g = dL/dF (N, 3) and
        grad_theta(x; w) = d(sum_g w_g E_g)/dtheta at positions x,

            dL_F/dtheta = -sum_a g_a . d^2E/(dpos_a dtheta) ~= -[grad_theta(pos + h u; 1) - grad_theta(pos - h u; 1)] * s / (2h)

        with u = g / s, s = max |g|: a Hessian-vector product by central differences of the
        hand-written first-order backward (error O(h^2); with h = 1e-5 it is ~1e-10 relative in
        float64, and round-off grows as h shrinks: see chapter 8). It is the one derivative of the
        course not written out by hand. The energy term, grad_theta(pos; a) with a_g = dL/dE_g, rides
        along in the same two passes, since [grad_theta(pos + h u; a) + grad_theta(pos - h u; a)] / 2
        equals it up to O(h^2) and the backward pass is linear in its weights. So a step costs three
        forward and three backward passes. The displaced passes reuse the graph of ``pos`` (an edge
        crossing the cutoff within h changes E by O(h^2), since the cutoff and its slope vanish there).
        Returns (loss, grads).
        """
        missing = [k for k in ("Z", "pos", "E", "F") if k not in batch_data]
        if missing:
            raise ValueError(f"batch_data: expected keys Z, pos, batch, E, F; missing {missing}")
        if not (isinstance(hvp_step, (float, int)) and 0 < hvp_step < 1):
            raise ValueError(f"hvp_step: expected a number in (0, 1) (Angstrom), got {hvp_step!r}")
        Z, pos, batch, G = self.check_inputs(batch_data["Z"], batch_data["pos"], batch_data.get("batch"))
        E_ref = as_float_array("batch_data['E']", batch_data["E"], shape=(G,))
        F_ref = as_float_array("batch_data['F']", batch_data["F"], shape=pos.shape)
        edge_index = self.graph(pos, batch)
        out, cache = self.forward(Z, pos, batch, edge_index, G)
        direct = "forces" in self.OUTPUTS
        F = out["forces"] if direct else -self.backward({"energy": np.ones(G)}, cache)[1]
        dE_err, dF_err = out["energy"] - E_ref, F - F_ref
        loss = float(w_energy * np.mean(dE_err**2) + w_forces * np.mean(dF_err**2))
        a = w_energy * 2.0 * dE_err / G                                # dL/dE
        g = w_forces * 2.0 * dF_err / dF_err.size                      # dL/dF
        if direct:
            return loss, self.backward({"energy": a, "forces": g}, cache)[0]
        scale = np.abs(g).max()
        if scale == 0:                                                 # no force term: one more backward
            return loss, self.backward({"energy": a}, cache)[0]
        u, c = g / scale, scale / (2.0 * hvp_step)
        grads = self.backward({"energy": 0.5 * a - c}, self.forward(Z, pos + hvp_step * u, batch, edge_index, G)[1])[0]
        g_minus = self.backward({"energy": 0.5 * a + c}, self.forward(Z, pos - hvp_step * u, batch, edge_index, G)[1])[0]
        for k in grads:
            grads[k] += g_minus[k]
        return loss, grads

    # --------------------------------------------------------------------- files
    def save(self, path, arrays=None, info=None):
        """Write ``params``, the model's name and config, optional extra ``arrays`` (a dict of arrays,
        e.g. the training split) and ``info`` (a JSON-able dict) to ``path`` (.npz)."""
        if self.name not in MODELS:
            raise ValueError(f"model: {type(self).__name__} is not registered (use @register_model)")
        arrays = dict(arrays or {})
        clash = sorted(set(arrays) & (set(self.params) | {"__model__"}))
        if clash:
            raise ValueError(f"arrays: names {clash} clash with parameter names")
        header = {"model": self.name, "config": self.config(), "info": info or {}}
        np.savez(path, **self.params, **arrays, __model__=np.array(json.dumps(header)))


def load(path):
    """Read a file written by ``Model.save``: returns (model, arrays, info).

    ``arrays`` holds the extra arrays saved beside the parameters; raises ValueError if the file names
    an unknown model, or a parameter is missing or has the wrong shape for the stored config.
    """
    with np.load(path, allow_pickle=False) as f:
        stored = {k: f[k] for k in f.files}
    if "__model__" not in stored:
        raise ValueError(f"path: {path} has no '__model__' entry (not written by Model.save)")
    header = json.loads(str(stored.pop("__model__")))
    if header.get("model") not in MODELS:
        raise ValueError(f"path: {path} holds a model {header.get('model')!r}; known models: {sorted(MODELS)}")
    model = MODELS[header["model"]](**header["config"])
    for name, value in model.params.items():
        if name not in stored:
            raise ValueError(f"path: {path} lacks parameter {name!r}")
        if stored[name].shape != value.shape:
            raise ValueError(f"path: parameter {name!r} has shape {stored[name].shape}, expected {value.shape}")
        value[...] = stored.pop(name)
    return model, stored, header["info"]


def fit_atomref(model, Z, E, batch):
    """Set ``model.params['atomref']`` to the least-squares per-element energies.

    Solves min ||C a - E||^2, C[g, z] = number of atoms of element z in graph g, taking the
    minimum-norm solution (with one composition, as in a single-molecule dataset, only
    the sum over the molecule is determined). Z: (N,); E: (G,) eV; batch: (N,). Returns a (max_z,).
    """
    if "atomref" not in model.params:
        raise ValueError(f"model: {type(model).__name__} has no 'atomref' parameter")
    Z, _, batch, G = model.check_inputs(Z, np.zeros((len(Z), 3)), batch)
    E = as_float_array("E", E, shape=(G,))
    counts = np.bincount(batch * model.max_z + Z, minlength=G * model.max_z).reshape(G, model.max_z)
    a = np.linalg.lstsq(counts, E, rcond=None)[0]
    model.params["atomref"][:] = a
    return a


def check_doutput(name, value, shape):
    """dL/d(output) from a ``doutputs`` dict: zeros when absent, else checked against ``shape``."""
    return np.zeros(shape) if value is None else check_like(name, value, shape)
