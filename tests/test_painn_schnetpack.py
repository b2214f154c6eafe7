"""Optional parity test: refimpl's PaiNN against schnetpack's with the same weights (float64).

PyTorch and schnetpack are not requirements of the course (nor installed in CI): without them this
test is skipped. To run it, in a separate virtual environment:

    python -m venv /tmp/venv-torch && /tmp/venv-torch/bin/pip install numpy scipy pytest torch schnetpack
    PYTHONPATH=$PWD /tmp/venv-torch/bin/python -m pytest -q tests/test_painn_schnetpack.py

(checked with torch 2.13.0 and schnetpack 2.0.4, whose import needs the one-line shim below.)
"""
import typing

import numpy as np
import pytest

from refimpl.data.datasets import load_molecule
from refimpl.models.painn import PaiNN, schnetpack_state_dict

torch = pytest.importorskip("torch", reason="PyTorch is not installed (optional: see the module docstring)")
import torch.utils.data.dataloader as _dataloader  # noqa: E402

if not hasattr(_dataloader, "T_co"):     # schnetpack 2.0.4 imports a name that newer torch dropped
    _dataloader.T_co = typing.TypeVar("T_co", covariant=True)
spk = pytest.importorskip("schnetpack", reason="schnetpack is not installed (optional: see the module docstring)")


def _schnetpack_painn(ours, radial_basis):
    F, rc = ours.n_atom_basis, ours.cutoff
    basis = {"sine": spk.nn.BesselRBF, "gaussian": spk.nn.GaussianRBF}[radial_basis](n_rbf=ours.n_rbf, cutoff=rc)
    rep = spk.representation.PaiNN(n_atom_basis=F, n_interactions=ours.n_interactions, radial_basis=basis,
                                   cutoff_fn=spk.nn.CosineCutoff(rc), max_z=ours.max_z,
                                   shared_filters=ours.shared_filters, epsilon=ours.epsilon)
    model = spk.model.NeuralNetworkPotential(
        representation=rep, input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=F, output_key="energy"),
                        spk.atomistic.Forces(energy_key="energy", force_key="forces")]).double()
    state = {k: torch.tensor(v) for k, v in schnetpack_state_dict(ours).items()}
    # the basis constants, built in float32 by schnetpack, recomputed in float64
    K = ours.n_rbf
    if radial_basis == "sine":
        state["representation.radial_basis.freqs"] = torch.arange(1, K + 1, dtype=torch.float64) * np.pi / rc
    else:
        mu = np.linspace(0.0, rc, K)
        state["representation.radial_basis.offsets"] = torch.tensor(mu)
        state["representation.radial_basis.widths"] = torch.full((K,), mu[1] - mu[0], dtype=torch.float64)
    state["representation.cutoff_fn.cutoff"] = torch.tensor([rc], dtype=torch.float64)
    missing, unexpected = model.load_state_dict(state, strict=False)
    assert not unexpected and not missing, (missing, unexpected)
    return model


@pytest.mark.parametrize("radial_basis", ["sine", "gaussian"])
def test_energies_and_forces_equal_schnetpack(radial_basis):
    rng = np.random.default_rng(0)
    ours = PaiNN(n_atom_basis=8, n_interactions=2, n_rbf=6, radial_basis=radial_basis, cutoff=4.0, max_z=10)
    for name, value in ours.params.items():
        if name != "atomref":
            value += 0.2 * rng.normal(size=value.shape)
    theirs = _schnetpack_painn(ours, radial_basis)
    default = torch.get_default_dtype()
    torch.set_default_dtype(torch.float64)            # schnetpack creates mu = 0 in the default dtype
    try:
        mol = load_molecule("ethanol")
        Z = np.concatenate([mol.z, mol.z])
        pos = np.concatenate([mol.pos, mol.pos @ np.linalg.qr(rng.normal(size=(3, 3)))[0].T + 0.1])
        batch = np.repeat([0, 1], len(mol.z))
        E, F = ours.energy_and_forces(Z, pos, batch)
        edges = ours.graph(pos, batch)
        inputs = {spk.properties.Z: torch.tensor(Z), spk.properties.R: torch.tensor(pos),
                  spk.properties.idx_m: torch.tensor(batch), spk.properties.idx_j: torch.tensor(edges[0]),
                  spk.properties.idx_i: torch.tensor(edges[1]),
                  spk.properties.offsets: torch.zeros(edges.shape[1], 3),
                  spk.properties.n_atoms: torch.tensor([len(mol.z)] * 2)}
        out = theirs(inputs)
        E_ref, F_ref = out["energy"].detach().numpy(), out["forces"].detach().numpy()
    finally:
        torch.set_default_dtype(default)
    assert np.abs(E - E_ref).max() < 1e-8 * np.abs(E_ref).max()
    assert np.abs(F - F_ref).max() < 1e-8 * np.abs(F_ref).max()
