"""Molecular-dynamics datasets of one molecule: MD17 / rMD17 files and the shipped ethanol set.

Every loader returns a ``Trajectory``: one molecule of N atoms in n configurations,

    z (N,) atomic numbers;  R (n, N, 3) Angstrom;  E (n,) eV;  F (n, N, 3) eV/Angstrom,

with forces F = -dE/dR. Two file layouts of the sGDML group are read:

- MD17 (Chmiela et al. 2017): keys ``z``, ``R``, ``E`` (n, 1) or (n,), ``F``;
- rMD17 (Christensen & von Lilienfeld 2020): keys ``nuclear_charges``, ``coords``,
  ``energies``, ``forces``.

Both store energies in kcal/mol and forces in kcal/mol/Angstrom (positions in Angstrom);
we convert with 1 kcal/mol = 4.184 kJ/mol / (N_A e) = 0.04336410424 eV (exact SI constants).
No file is ever downloaded: pass the path of a file you have.
"""
import json
from dataclasses import dataclass, field

import numpy as np

from refimpl.core.validate import as_float_array, as_index_array

AVOGADRO = 6.02214076e23                 # 1/mol (exact, SI 2019)
ELEMENTARY_CHARGE = 1.602176634e-19      # C (exact, SI 2019)
KCAL_MOL_EV = 4184.0 / (AVOGADRO * ELEMENTARY_CHARGE)   # eV per kcal/mol, 0.04336410424...

LAYOUTS = {   # our name -> the file's key, per layout
    "md17": {"z": "z", "R": "R", "E": "E", "F": "F"},
    "rmd17": {"z": "nuclear_charges", "R": "coords", "E": "energies", "F": "forces"},
}


UNITS = {"eV": 1.0, "kcal/mol": KCAL_MOL_EV}   # energy unit of the arrays given -> eV per unit


@dataclass
class Trajectory:
    """n configurations of one molecule: z (N,), R (n, N, 3) A, E (n,) eV, F (n, N, 3) eV/A.

    Checked on construction: z atomic numbers in [1, 118]; R, E, F finite with matching shapes;
    E of shape (n,) or (n, 1) (stored as (n,)). ``units`` is the energy unit of the E and F
    given ("eV": E in eV and F in eV/A, or "kcal/mol": E in kcal/mol and F in kcal/mol/A, as in
    the MD17 files); they are stored in eV and eV/A, ``units`` becomes "eV" and
    ``meta["source_units"]`` records what was given. Positions are always Angstrom.
    """
    z: np.ndarray
    R: np.ndarray
    E: np.ndarray
    F: np.ndarray
    meta: dict = field(default_factory=dict)
    units: str = "eV"

    def __post_init__(self):
        if not isinstance(self.units, str) or self.units not in UNITS:
            raise ValueError(f"units: expected one of {sorted(UNITS)} (the unit of E; F is per Angstrom), "
                             f"got {self.units!r}")
        if not isinstance(self.meta, dict):
            raise ValueError(f"meta: expected a dict, got {type(self.meta).__name__}")
        self.z, self.R, self.E, self.F = _check_arrays(self.z, self.R, self.E, self.F, {k: k for k in "zREF"})
        if self.units != "eV":
            self.E, self.F = self.E * UNITS[self.units], self.F * UNITS[self.units]
            self.meta = {**self.meta, "source_units": f"{self.units}, {self.units}/Angstrom, Angstrom",
                         "eV_per_source_unit": UNITS[self.units]}
            self.units = "eV"

    def __len__(self):
        return self.E.shape[0]

    def batch(self, idx):
        """Configurations ``idx`` as one batch (atoms concatenated), the input of ``loss_and_grads``.

        Returns a dict: Z (B N,), pos (B N, 3), batch (B N,) graph ids, E (B,), F (B N, 3).
        """
        idx = as_index_array("idx", np.atleast_1d(idx), size=len(self))
        b, n = idx.size, self.z.size
        return {"Z": np.tile(self.z, b), "pos": self.R[idx].reshape(b * n, 3),
                "batch": np.repeat(np.arange(b), n), "E": self.E[idx].copy(),
                "F": self.F[idx].reshape(b * n, 3)}


def _detect_layout(keys, path):
    for name, mapping in LAYOUTS.items():
        if mapping["R"] in keys:
            missing = [k for k in mapping.values() if k not in keys]
            if missing:
                raise ValueError(f"path: {name} file {path} lacks key {missing[0]!r} (has {sorted(keys)})")
            return name, mapping
    raise ValueError(f"path: {path} has neither an MD17 key 'R' nor an rMD17 key 'coords' (has {sorted(keys)})")


def _check_arrays(z, R, E, F, keys):
    """Shapes must agree: z (N,), R (n, N, 3), E (n,), F (n, N, 3). ``keys`` are the file's names."""
    z = as_index_array(keys["z"], z, size=119)
    if z.size and z.min() < 1:
        raise ValueError(f"{keys['z']}: expected atomic numbers >= 1, found {z.min()}")
    if z.size == 0:
        raise ValueError(f"{keys['z']}: expected at least one atom")
    R = as_float_array(keys["R"], R, shape=(None, z.size, 3))
    n = R.shape[0]
    if n == 0:
        raise ValueError(f"{keys['R']}: expected at least one configuration, got shape {R.shape}")
    E = as_float_array(keys["E"], E)
    if E.shape not in ((n,), (n, 1)):
        raise ValueError(f"{keys['E']}: expected shape ({n},) or ({n}, 1) (one energy per configuration), got {E.shape}")
    F = as_float_array(keys["F"], F, shape=(n, z.size, 3))
    return z, R, E.reshape(n), F


def load_md17(path):
    """Read an MD17 or rMD17 ``.npz`` file and convert to eV and eV/Angstrom.

    path: a file in either layout (detected from its keys). Returns a ``Trajectory`` with
    z (N,), R (n, N, 3) Angstrom, E (n,) eV, F (n, N, 3) eV/Angstrom; ``meta`` records the
    layout, the file and the source units. Raises ValueError naming the key that is missing or whose
    shape does not fit the others.
    """
    try:
        data = np.load(path, allow_pickle=False)
    except ValueError as exc:
        raise ValueError(f"path: {path} is not an .npz file of arrays ({exc})") from None
    if not isinstance(data, np.lib.npyio.NpzFile):
        raise ValueError(f"path: {path} holds one array, expected an .npz file with MD17 or rMD17 keys")
    with data:
        if "metadata" in data.files and "eV" in str(data["metadata"]):
            raise ValueError(f"path: {path} declares eV in its metadata (the course's own format, read with "
                             "load_ethanol); MD17 files are in kcal/mol")
        layout, keys = _detect_layout(set(data.files), path)
        z, R, E, F = _check_arrays(*(data[keys[k]] for k in ("z", "R", "E", "F")), keys)
    return Trajectory(z=z, R=R, E=E, F=F, meta={"layout": layout, "path": str(path)}, units="kcal/mol")


def load_ethanol():
    """The shipped ethanol set (``refimpl/data/ethanol_dft.npz``, made by tools/generate_ethanol.py).

    B3LYP/6-31G(d) energies and forces of normal-mode samples at 500 K, already in eV and
    eV/Angstrom. Returns a ``Trajectory``: z (9,), R (n, 9, 3), E (n,), F (n, 9, 3); ``meta`` is
    the file's metadata (level of theory, sampling, seed, constants, ...).
    """
    from refimpl.data.datasets import data_path
    with data_path("ethanol_dft.npz").open("rb") as fh, np.load(fh, allow_pickle=False) as data:
        arrays, meta = {k: data[k] for k in "zREF"}, json.loads(str(data["metadata"]))
    return Trajectory(**arrays, meta=meta, units="eV")
