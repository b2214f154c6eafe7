"""tools/train_schnet_ethanol.py on small MD17 / rMD17 files written here (nothing is downloaded):
energies of shape (n, 1) or (n,), kcal/mol converted to eV, a random split, the record it writes."""
import importlib.util
import json
import pathlib

import numpy as np
import pytest

from refimpl.data.md17 import KCAL_MOL_EV
from refimpl.pretrained import load_trained

TOOL = pathlib.Path(__file__).resolve().parents[1] / "tools" / "train_schnet_ethanol.py"
spec = importlib.util.spec_from_file_location("train_schnet_ethanol", TOOL)
tool = importlib.util.module_from_spec(spec)
spec.loader.exec_module(tool)


def _water_md17(rng, n=30):
    """Water-like frames with energies near -47800 kcal/mol (as MD17 stores them) and random forces."""
    R = np.array([[0.0, 0.0, 0.0], [0.96, 0.0, 0.0], [-0.24, 0.93, 0.0]]) + rng.normal(scale=0.03, size=(n, 3, 3))
    E = -47800.0 + 5.0 * rng.normal(size=n)
    return np.array([8, 1, 1]), R, E, rng.normal(scale=10.0, size=(n, 3, 3))


def _run(tmp_path, data_file, *extra):
    out = tmp_path / "params.npz"
    tool.main(["--data", str(data_file), "--out", str(out), "--n-train", "12", "--n-val", "6", "--steps", "3",
               "--eval-every", "3", "--batch-size", "4", "--no-progress", *extra])
    return load_trained(out)


@pytest.mark.parametrize("energy_shape", ["column", "flat"])
def test_md17_file_trains_in_ev(tmp_path, energy_shape):
    z, R, E, F = _water_md17(np.random.default_rng(0))
    np.savez(tmp_path / "md17_water.npz", z=z, R=R, E=E[:, None] if energy_shape == "column" else E, F=F)
    model, train_idx, val_idx, config = _run(tmp_path, tmp_path / "md17_water.npz")
    info = config["info"]
    test_idx = np.setdiff1d(np.arange(30), np.concatenate([train_idx, val_idx]))
    assert info["split"] == "random" and info["n_test"] == 12 and test_idx.size == 12
    assert not np.array_equal(train_idx, np.arange(12))                  # an MD17 file is a trajectory
    # the baseline it records is in eV: the kcal/mol deviations times 0.0434
    baseline_kcal = np.abs(E[test_idx] - E[train_idx].mean()).mean()
    assert info["test_baseline_mean_energy_mae_eV"] == pytest.approx(baseline_kcal * KCAL_MOL_EV, rel=1e-9)
    assert "kcal/mol" in info["source_units"] and "md17 layout" in info["data"]
    # the offsets were fitted to eV energies: the untrained network adds a few eV
    E_model, _ = model.energy_and_forces(z, R[0])
    assert abs(E_model[0] - E[train_idx].mean() * KCAL_MOL_EV) < 10.0     # kcal/mol read as eV: 45700 off
    assert len(info["history"]["step"]) == 1 and info["lr_schedule"] == "cosine"


def test_rmd17_file_and_fixed_test_size(tmp_path):
    z, R, E, F = _water_md17(np.random.default_rng(1))
    np.savez(tmp_path / "rmd17_water.npz", nuclear_charges=z, coords=R, energies=E, forces=F)
    _, train_idx, val_idx, config = _run(tmp_path, tmp_path / "rmd17_water.npz", "--n-test", "5",
                                         "--schedule", "plateau", "--split", "order")
    assert config["info"]["n_test"] == 5 and np.array_equal(train_idx, np.arange(12))
    assert np.array_equal(val_idx, np.arange(12, 18)) and "rmd17 layout" in config["info"]["data"]
    assert json.loads(json.dumps(config))["info"]["lr_schedule"] == "plateau"


def test_too_few_configurations(tmp_path):
    z, R, E, F = _water_md17(np.random.default_rng(2), n=10)
    np.savez(tmp_path / "small.npz", z=z, R=R, E=E, F=F)
    with pytest.raises(SystemExit, match="only 10"):
        _run(tmp_path, tmp_path / "small.npz")
