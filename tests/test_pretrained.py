"""The shipped SchNet parameters: the file loads into a SchNet of the stored sizes, save/load round-trips,
bad files are rejected, and the model is accurate on configurations it was not trained on."""
import json

import numpy as np
import pytest

from refimpl.data.datasets import data_path
from refimpl.data.md17 import load_ethanol
from refimpl.models.base import load
from refimpl.pretrained import SCHNET_ETHANOL, load_schnet_ethanol, load_trained, save_trained
from refimpl.models.schnet import SchNet
from refimpl.train import evaluate


def test_shipped_file_has_every_parameter_with_its_shape():
    with np.load(data_path(SCHNET_ETHANOL), allow_pickle=False) as f:
        arrays = {k: f[k] for k in f.files}
    header = json.loads(str(arrays.pop("__model__")))
    train_idx, val_idx = arrays.pop("train_idx"), arrays.pop("val_idx")
    assert header["model"] == "schnet"
    fresh = SchNet(**header["config"])
    config = {"info": header["info"]}
    assert set(arrays) == set(fresh.params)
    assert all(arrays[k].shape == v.shape and arrays[k].dtype == np.float64 for k, v in fresh.params.items())
    assert np.intersect1d(train_idx, val_idx).size == 0 and train_idx.size > 0
    assert config["info"]["script"] == "tools/train_schnet_ethanol.py"


def test_shipped_model_is_accurate_on_held_out_configurations():
    model, train_idx, val_idx, config = load_schnet_ethanol()
    data = load_ethanol()
    held_out = np.setdiff1d(np.arange(len(data)), np.concatenate([train_idx, val_idx]))[:20]
    assert held_out.size >= 10
    mae_E, mae_F = evaluate(model, data, held_out)
    baseline_E = np.abs(data.E[held_out] - data.E[train_idx].mean()).mean()
    baseline_F = np.abs(data.F[held_out]).mean()
    assert mae_E < 0.2 * baseline_E and mae_E < 0.05            # eV
    assert mae_F < 0.2 * baseline_F and mae_F < 0.2             # eV/A


def test_save_load_round_trip(tmp_path):
    m = SchNet(n_atom_basis=6, n_filters=4, n_interactions=2, n_rbf=5, cutoff=3.0, max_z=9, seed=3)
    save_trained(tmp_path / "p.npz", m, [0, 1, 2], [3], {"note": "test"})
    m2, tr, va, config = load_trained(tmp_path / "p.npz")
    Z, pos = np.array([6, 8, 1]), np.array([[0.0, 0, 0], [1.2, 0, 0], [0, 1.0, 0.3]])
    E1, F1 = m.energy_and_forces(Z, pos)
    E2, F2 = m2.energy_and_forces(Z, pos)
    assert np.array_equal(E1, E2) and np.array_equal(F1, F2)
    assert tr.tolist() == [0, 1, 2] and va.tolist() == [3] and config["info"] == {"note": "test"}


def test_bad_files_are_rejected(tmp_path):
    m = SchNet(n_atom_basis=6, n_filters=4, n_interactions=1, n_rbf=5, cutoff=3.0, max_z=9, seed=3)
    save_trained(tmp_path / "p.npz", m, [0], [1], {})
    with np.load(tmp_path / "p.npz") as f:
        arrays = {k: f[k] for k in f.files}
    np.savez(tmp_path / "missing.npz", **{k: v for k, v in arrays.items() if k != "readout.0.W"})
    with pytest.raises(ValueError, match="readout.0.W"):
        load_trained(tmp_path / "missing.npz")
    np.savez(tmp_path / "shape.npz", **(arrays | {"embedding": np.zeros((9, 7))}))
    with pytest.raises(ValueError, match="embedding"):
        load_trained(tmp_path / "shape.npz")
    np.savez(tmp_path / "noconfig.npz", **{k: v for k, v in arrays.items() if k != "__model__"})
    with pytest.raises(ValueError, match="__model__"):
        load_trained(tmp_path / "noconfig.npz")
    np.savez(tmp_path / "nosplit.npz", **{k: v for k, v in arrays.items() if k != "val_idx"})
    with pytest.raises(ValueError, match="val_idx"):
        load_trained(tmp_path / "nosplit.npz")
    bad = json.loads(str(arrays["__model__"])) | {"model": "no-such-model"}
    np.savez(tmp_path / "unknown.npz", **(arrays | {"__model__": np.array(json.dumps(bad))}))
    with pytest.raises(ValueError, match="no-such-model"):
        load(tmp_path / "unknown.npz")
