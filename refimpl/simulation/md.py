"""Molecular dynamics and geometry relaxation on any energy-and-forces function.

Units (the course's, plus mass and time):

| quantity | unit                          |
| -------- | ----------------------------- |
| position | Angstrom (A)                  |
| energy   | eV                            |
| force    | eV/A                          |
| mass     | amu (dalton, 1/12 of a 12C atom) |
| time     | fs                            |
| velocity | A/fs                          |

Newton's law a = F / m gives F/m in eV/(amu A); in A/fs^2 that is

    1 eV/(amu A) = 1.602176634e-19 J / (1.66053906660e-27 kg * 1e-10 m)
                 = 9.64853321e17 m/s^2 = 9.64853321e-3 A/fs^2          (``EV_PER_AMU_A_TO_A_PER_FS2``)

and the kinetic energy (1/2) m v^2 in amu A^2/fs^2 is converted back to eV by dividing by the same
factor (1 amu A^2/fs^2 = 103.6427 eV). A C-H bond (k ~ 30 eV/A^2) vibrates with a period of
about 11 fs, so time steps of 0.5 fs resolve every motion of an organic molecule.

Velocity Verlet (book: Interatomic potentials and molecular dynamics, `eq-velocity-verlet`):

    v(t + dt/2) = v(t) + (dt / 2) F(t) / m
    x(t + dt)   = x(t) + dt v(t + dt/2)
    v(t + dt)   = v(t + dt/2) + (dt / 2) F(t + dt) / m

It is time reversible and symplectic: the total energy of an NVE run does not drift, it
fluctuates by O(dt^2).
"""
from dataclasses import dataclass

import numpy as np
from scipy.optimize import minimize

from refimpl.core.validate import as_float_array, as_index_array, check_positive_int

ELEMENTARY_CHARGE = 1.602176634e-19        # J per eV (exact, SI 2019)
DALTON = 1.66053906660e-27                 # kg per amu (CODATA 2018)
BOLTZMANN_EV = 8.617333262e-5              # eV/K (exact, SI 2019)
EV_PER_AMU_A_TO_A_PER_FS2 = ELEMENTARY_CHARGE / (DALTON * 1e-10) * 1e10 / 1e30   # m/s^2 -> A/fs^2: 9.64853321e-3

# standard atomic weights (IUPAC conventional values), amu
ATOMIC_MASSES = {1: 1.008, 6: 12.011, 7: 14.007, 8: 15.999, 9: 18.998, 16: 32.06}


def masses_of(Z):
    """Atomic masses (N,) in amu of atomic numbers Z (N,) (H, C, N, O, F, S)."""
    Z = as_index_array("Z", Z)
    unknown = sorted(set(Z.tolist()) - set(ATOMIC_MASSES))
    if unknown:
        raise ValueError(f"Z: no mass for atomic numbers {unknown}; known: {sorted(ATOMIC_MASSES)}")
    table = np.zeros(max(ATOMIC_MASSES) + 1)
    table[list(ATOMIC_MASSES)] = list(ATOMIC_MASSES.values())
    return table[Z]


def _check_masses(masses, n):
    masses = as_float_array("masses", masses, shape=(n,))
    if np.any(masses <= 0):
        raise ValueError(f"masses: expected positive masses (amu), found min {masses.min()}")
    return masses


def _check_dt(dt):
    if isinstance(dt, bool) or not isinstance(dt, (int, float, np.floating, np.integer)) or not 0 < dt < np.inf:
        raise ValueError(f"dt: expected a time step > 0 in fs, got {dt!r}")
    return float(dt)


def kinetic_energy(vel, masses):
    """``K = sum_a (1/2) m_a |v_a|^2`` in eV. vel: (N, 3) A/fs; masses: (N,) amu. Returns a float."""
    return 0.5 * float(np.sum(masses[:, None] * vel**2)) / EV_PER_AMU_A_TO_A_PER_FS2


def temperature(vel, masses, n_constraints=3):
    """Instantaneous temperature ``T = 2 K / (k_B (3N - n_constraints))`` in K (3 for a fixed momentum)."""
    dof = 3 * len(masses) - n_constraints
    if dof <= 0:
        raise ValueError(f"n_constraints: leaves {dof} degrees of freedom for {len(masses)} atoms")
    return 2.0 * kinetic_energy(vel, masses) / (BOLTZMANN_EV * dof)


def maxwell_boltzmann(masses, temp, rng):
    """Random velocities (N, 3) in A/fs at temperature ``temp`` (K) with zero total momentum.

    Each component is drawn from Normal(0, k_B T / m_a) (converted to (A/fs)^2), then the
    centre-of-mass velocity sum_a m_a v_a / sum_a m_a is subtracted. masses: (N,) amu; rng: Generator.
    """
    masses = as_float_array("masses", masses, ndim=1)
    _check_masses(masses, masses.shape[0])
    if not isinstance(temp, (int, float, np.floating, np.integer)) or not 0 <= temp < np.inf:
        raise ValueError(f"temp: expected a temperature >= 0 in K, got {temp!r}")
    sigma = np.sqrt(BOLTZMANN_EV * temp / masses * EV_PER_AMU_A_TO_A_PER_FS2)
    vel = rng.normal(size=(masses.size, 3)) * sigma[:, None]
    return vel - (masses @ vel) / masses.sum()


def velocity_verlet_step(pos, vel, forces, masses, dt, force_fn):
    """One velocity-Verlet step (`eq-velocity-verlet`): returns (pos, vel, forces) at t + dt.

    pos: (N, 3) A; vel: (N, 3) A/fs; forces: (N, 3) eV/A at ``pos``; masses: (N,) amu; dt: fs;
    force_fn(pos) -> forces (N, 3) eV/A. One call of force_fn per step.
    """
    inv_m = EV_PER_AMU_A_TO_A_PER_FS2 / masses[:, None]            # (N, 1): eV/A -> A/fs^2
    vel_half = vel + 0.5 * dt * forces * inv_m
    pos_new = pos + dt * vel_half
    forces_new = np.asarray(force_fn(pos_new), dtype=np.float64)
    if forces_new.shape != pos.shape:
        raise ValueError(f"force_fn: expected forces of shape {pos.shape}, got {forces_new.shape}")
    return pos_new, vel_half + 0.5 * dt * forces_new * inv_m, forces_new


@dataclass
class MDTrajectory:
    """Frames of an NVE run: time (T,) fs, pos (T, N, 3) A, vel (T, N, 3) A/fs, and energies
    (T,) eV: potential, kinetic, total = potential + kinetic; temperature (T,) K."""
    time: np.ndarray
    pos: np.ndarray
    vel: np.ndarray
    potential: np.ndarray
    kinetic: np.ndarray
    temperature: np.ndarray

    @property
    def total(self):
        return self.potential + self.kinetic


def run_nve(energy_and_forces, pos, vel, masses, dt, n_steps, every=1):
    """Integrate Newton's equations at constant N, V, E with velocity Verlet.

    energy_and_forces(pos) -> (E, F): E a float (or a 1-element array) in eV, F (N, 3) eV/A;
    pos, vel: (N, 3) initial state (A, A/fs); masses: (N,) amu; dt: fs; n_steps: steps;
    every: keep every ``every``-th frame (frame 0 is the initial state).
    Returns an ``MDTrajectory`` with 1 + n_steps // every frames.
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    vel = as_float_array("vel", vel, shape=pos.shape)
    masses, dt = _check_masses(masses, pos.shape[0]), _check_dt(dt)
    n_steps, every = check_positive_int("n_steps", n_steps), check_positive_int("every", every)
    if every == 0:
        raise ValueError("every: expected a positive integer")
    last = {}

    def force_fn(x):
        E, F = energy_and_forces(x)
        last["E"] = _as_energy(E)
        return F

    forces = force_fn(pos)
    frames = [(0.0, pos, vel, last["E"])]
    for step in range(1, n_steps + 1):                 # time steps are sequential; atoms are vectorized
        pos, vel, forces = velocity_verlet_step(pos, vel, forces, masses, dt, force_fn)
        if step % every == 0:
            frames.append((step * dt, pos, vel, last["E"]))
    t, P, V, U = (np.array(a) for a in zip(*frames))
    K = 0.5 * np.einsum("a,tak->t", masses, V**2) / EV_PER_AMU_A_TO_A_PER_FS2
    T = 2.0 * K / (BOLTZMANN_EV * max(3 * pos.shape[0] - 3, 1))
    return MDTrajectory(time=t, pos=P, vel=V, potential=U, kinetic=K, temperature=T)


def _as_energy(E):
    E = np.asarray(E, dtype=np.float64)
    if E.size != 1:
        raise ValueError(f"energy_and_forces: expected one energy (a float or shape (1,)), got shape {E.shape}")
    return float(E.reshape(-1)[0])


@dataclass
class RelaxResult:
    """A relaxation: final pos (N, 3) A, energy eV, forces (N, 3) eV/A, the energy after every
    iteration (n_iter + 1,) eV, max_force = max_a |F_a| eV/A, converged (max_force <= fmax)."""
    pos: np.ndarray
    energy: float
    forces: np.ndarray
    energies: np.ndarray
    max_force: float
    converged: bool
    n_iter: int


def relax(energy_and_forces, Z, pos, fmax=0.01, max_iter=500):
    """Local geometry optimization: minimize E(Z, pos) with L-BFGS-B, gradient dE/dpos = -F.

    energy_and_forces(Z, pos) -> (E, F) (a model's ``energy_and_forces``: E shape (1,) eV,
    F (N, 3) eV/A); Z: (N,); pos: (N, 3) A start; fmax: stop when every atom's |F_a| <= fmax
    (eV/A); max_iter: L-BFGS iterations. Returns a ``RelaxResult``.
    """
    pos = as_float_array("pos", pos, shape=(None, 3))
    Z = as_index_array("Z", Z)
    if Z.shape[0] != pos.shape[0]:
        raise ValueError(f"Z: expected one atomic number per row of pos ({pos.shape[0]}), got {Z.shape[0]}")
    if not isinstance(fmax, (int, float, np.floating)) or not 0 < fmax < np.inf:
        raise ValueError(f"fmax: expected a force tolerance > 0 in eV/A, got {fmax!r}")
    max_iter = check_positive_int("max_iter", max_iter)
    shape = pos.shape

    def fun(flat):
        E, F = energy_and_forces(Z, flat.reshape(shape))
        return _as_energy(E), -np.asarray(F, dtype=np.float64).reshape(-1)

    energies = [fun(pos.reshape(-1))[0]]

    def record(intermediate_result):          # scipy passes the state after each iteration
        energies.append(float(intermediate_result.fun))

    # gtol on the largest gradient component (<= the per-atom norm); we judge convergence by the norm below
    res = minimize(fun, pos.reshape(-1), jac=True, method="L-BFGS-B",
                   callback=record,
                   options={"maxiter": max_iter, "gtol": fmax / np.sqrt(3.0), "ftol": 1e-15})
    E, g = fun(res.x)
    F = -g.reshape(shape)
    max_force = float(np.linalg.norm(F, axis=1).max())
    return RelaxResult(pos=res.x.reshape(shape), energy=E, forces=F, energies=np.array(energies),
                       max_force=max_force, converged=max_force <= fmax, n_iter=int(res.nit))
