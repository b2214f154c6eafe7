"""MD17 / rMD17 loaders (files written to tmp_path; nothing is downloaded) and the shipped ethanol set."""
import numpy as np
import pytest

from refimpl.data import md17

KCAL = 4184.0 / 96485.33212   # eV per kcal/mol: 4.184 kJ/mol over the Faraday constant (C/mol)


def _arrays(rng, n=4, N=3):
    return {"z": np.array([8, 1, 1]), "R": rng.normal(size=(n, N, 3)),
            "E": rng.normal(size=n) - 47000.0, "F": rng.normal(size=(n, N, 3))}


def _write_md17(path, a, energy_column=True):
    np.savez(path, z=a["z"], R=a["R"], E=a["E"][:, None] if energy_column else a["E"], F=a["F"],
             name=np.array("water"), theory=np.array("made up"))


def _write_rmd17(path, a):
    np.savez(path, nuclear_charges=a["z"], coords=a["R"], energies=a["E"], forces=a["F"],
             old_indices=np.arange(a["E"].size))


def test_kcal_per_mol_in_ev():
    assert md17.KCAL_MOL_EV == pytest.approx(KCAL, rel=1e-9)


@pytest.mark.parametrize("energy_column", [True, False])
def test_load_md17_layout_converts_to_ev(tmp_path, energy_column):
    a = _arrays(np.random.default_rng(0))
    _write_md17(tmp_path / "md17.npz", a, energy_column)
    t = md17.load_md17(tmp_path / "md17.npz")
    assert t.meta["layout"] == "md17" and len(t) == 4
    assert np.array_equal(t.z, a["z"]) and np.array_equal(t.R, a["R"])
    assert np.allclose(t.E, a["E"] * KCAL, rtol=1e-9) and t.E.shape == (4,)
    assert np.allclose(t.F, a["F"] * KCAL, rtol=1e-9)


def test_load_rmd17_layout_converts_to_ev(tmp_path):
    a = _arrays(np.random.default_rng(1))
    _write_rmd17(tmp_path / "rmd17.npz", a)
    t = md17.load_md17(str(tmp_path / "rmd17.npz"))
    assert t.meta["layout"] == "rmd17"
    assert np.array_equal(t.z, a["z"]) and np.array_equal(t.R, a["R"])
    assert np.allclose(t.E, a["E"] * KCAL, rtol=1e-9) and np.allclose(t.F, a["F"] * KCAL, rtol=1e-9)


@pytest.mark.parametrize("drop", ["z", "E", "F"])
def test_missing_md17_key_is_named(tmp_path, drop):
    a = _arrays(np.random.default_rng(2))
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in a.items() if k != drop})
    with pytest.raises(ValueError, match=f"'{drop}'"):
        md17.load_md17(tmp_path / "bad.npz")


@pytest.mark.parametrize("drop", ["nuclear_charges", "energies", "forces"])
def test_missing_rmd17_key_is_named(tmp_path, drop):
    a = _arrays(np.random.default_rng(3))
    keys = dict(nuclear_charges=a["z"], coords=a["R"], energies=a["E"], forces=a["F"])
    np.savez(tmp_path / "bad.npz", **{k: v for k, v in keys.items() if k != drop})
    with pytest.raises(ValueError, match=drop):
        md17.load_md17(tmp_path / "bad.npz")


def test_unknown_layout(tmp_path):
    np.savez(tmp_path / "bad.npz", positions=np.zeros((2, 3, 3)))
    with pytest.raises(ValueError, match="path"):
        md17.load_md17(tmp_path / "bad.npz")


@pytest.mark.parametrize("key, bad, name", [
    ("R", np.zeros((4, 2, 3)), "R"),          # wrong number of atoms for z
    ("E", np.zeros(5), "E"),                  # wrong number of configurations
    ("F", np.zeros((4, 3, 2)), "F"),          # not xyz
    ("z", np.array([8, 0, 1]), "z"),          # no element 0
    ("R", np.full((4, 3, 3), np.nan), "R"),   # not finite
])
def test_inconsistent_shapes_are_named(tmp_path, key, bad, name):
    a = _arrays(np.random.default_rng(4))
    a[key] = bad
    _write_md17(tmp_path / "bad.npz", a, energy_column=False)
    with pytest.raises(ValueError, match=name):
        md17.load_md17(tmp_path / "bad.npz")


def test_rmd17_shape_error_names_the_file_key(tmp_path):
    a = _arrays(np.random.default_rng(5))
    a["F"] = np.zeros((4, 3, 4))
    _write_rmd17(tmp_path / "bad.npz", a)
    with pytest.raises(ValueError, match="forces"):
        md17.load_md17(tmp_path / "bad.npz")


def test_batch_concatenates_configurations(tmp_path):
    a = _arrays(np.random.default_rng(6))
    _write_rmd17(tmp_path / "rmd17.npz", a)
    t = md17.load_md17(tmp_path / "rmd17.npz")
    b = t.batch([2, 0])
    assert np.array_equal(b["Z"], np.tile(a["z"], 2)) and np.array_equal(b["batch"], [0, 0, 0, 1, 1, 1])
    assert np.array_equal(b["pos"][3:], a["R"][0]) and np.allclose(b["E"], t.E[[2, 0]])
    assert np.array_equal(b["F"][:3], t.F[2])
    with pytest.raises(ValueError, match="idx"):
        t.batch([4])


# ----------------------------------------------------------------------------- the shipped file
def test_shipped_ethanol_set():
    t = md17.load_ethanol()
    n = len(t)
    assert n >= 1000    # the issue asks for at least 1000 DFT configurations
    assert t.meta["fd_check"]["abs_diff_eV_per_A"] < 1e-4       # forces are the energy's derivative
    assert np.array_equal(t.z, [6, 6, 8, 1, 1, 1, 1, 1, 1])
    assert t.R.shape == (n, 9, 3) and t.E.shape == (n,) and t.F.shape == (n, 9, 3)
    for key in ("units", "level_of_theory", "basis", "code", "sampling", "temperature_K", "seed", "date"):
        assert key in t.meta
    assert t.meta["n_configurations"] == n
    # thermal samples around one minimum: energies within a few eV of it, not below it beyond anharmonic slack
    assert np.all(t.E > t.meta["equilibrium_energy_eV"] - 0.05) and np.ptp(t.E) < 5.0
    # DFT forces of an isolated molecule have no net force and no net torque (up to grid error)
    assert np.abs(t.F.sum(axis=1)).max() < 1e-2
    torque = np.cross(t.R - t.R.mean(axis=1, keepdims=True), t.F).sum(axis=1)
    assert np.abs(torque).max() < 1e-2
    # bonds stay bonds: the generator rejects samples whose covalent bonds change by > 0.15 A
    d = np.linalg.norm(t.R[:, :, None] - t.R[:, None], axis=-1)
    d_typical = np.median(d, axis=0)
    bonded = np.triu(d_typical < 1.6, 1)
    assert bonded.sum() == 8                                         # C-C, C-O, O-H and 5 C-H
    assert np.abs(d[:, bonded] - d_typical[bonded]).max() < 0.2
    # thermal energies: 21 harmonic modes at 500 K hold 21/2 k_B T = 0.45 eV on average
    mean_excess = np.mean(t.E - t.meta["equilibrium_energy_eV"])
    assert 0.3 < mean_excess < 0.7, mean_excess


# ----------------------------------------------------------------------------- Trajectory checks its input
def test_trajectory_normalises_an_energy_column_and_converts_kcal_per_mol():
    a = _arrays(np.random.default_rng(7))
    t = md17.Trajectory(z=a["z"], R=a["R"], E=a["E"][:, None], F=a["F"], units="kcal/mol")
    assert t.E.shape == (4,) and t.units == "eV" and "kcal/mol" in t.meta["source_units"]
    assert np.allclose(t.E, a["E"] * KCAL, rtol=1e-9) and np.allclose(t.F, a["F"] * KCAL, rtol=1e-9)
    t_ev = md17.Trajectory(z=a["z"], R=a["R"], E=a["E"], F=a["F"])
    assert t_ev.units == "eV" and np.array_equal(t_ev.E, a["E"]) and "source_units" not in t_ev.meta


@pytest.mark.parametrize("change, name", [
    ({"units": "kJ/mol"}, "units"),
    ({"units": None}, "units"),
    ({"E": np.zeros((4, 2))}, "E"),
    ({"E": np.zeros(3)}, "E"),
    ({"E": np.array([0.0, np.inf, 0.0, 0.0])}, "E"),
    ({"F": np.full((4, 3, 3), np.nan)}, "F"),
    ({"F": np.zeros((4, 2, 3))}, "F"),
    ({"R": np.zeros((4, 3))}, "R"),
    ({"R": np.zeros((0, 3, 3)), "E": np.zeros(0), "F": np.zeros((0, 3, 3))}, "R"),
    ({"z": np.array([8.5, 1, 1])}, "z"),
    ({"z": np.array([], dtype=int)}, "z"),
    ({"meta": "notes"}, "meta"),
])
def test_trajectory_rejects_bad_arrays_and_units(change, name):
    a = _arrays(np.random.default_rng(8))
    kwargs = {"z": a["z"], "R": a["R"], "E": a["E"], "F": a["F"]} | change
    with pytest.raises(ValueError, match=f"^{name}:"):
        md17.Trajectory(**kwargs)


def test_load_md17_refuses_a_file_in_ev(tmp_path):
    """The course's own file has MD17's keys but eV: read as MD17 it would be scaled by 0.043."""
    t = md17.load_ethanol()
    np.savez(tmp_path / "ev.npz", z=t.z, R=t.R[:3], E=t.E[:3], F=t.F[:3],
             metadata=np.array('{"units": {"E": "eV"}}'))
    with pytest.raises(ValueError, match="^path:.*eV"):
        md17.load_md17(tmp_path / "ev.npz")
