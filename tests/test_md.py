"""Molecular dynamics: units, velocity Verlet (period, energy, reversibility, momentum), relaxation."""
import numpy as np
import pytest

from refimpl.simulation import md

C_CM_PER_FS = 2.99792458e-5          # speed of light in cm/fs


def harmonic_bond(k, r0):
    """E = k/2 (|x_1 - x_0| - r0)^2 for two atoms, and its forces (2, 3); k in eV/A^2."""
    def energy_and_forces(pos):
        r = pos[1] - pos[0]
        d = np.linalg.norm(r)
        f1 = -k * (d - r0) * r / d
        return 0.5 * k * (d - r0) ** 2, np.stack([-f1, f1])
    return energy_and_forces


def lennard_jones(eps=0.0104, sigma=3.4):
    """Argon-like LJ cluster: E = sum_{a<b} 4 eps [(s/d)^12 - (s/d)^6], forces (N, 3), vectorized over pairs."""
    def energy_and_forces(pos):
        a, b = np.triu_indices(len(pos), 1)
        r = pos[b] - pos[a]
        d2 = np.sum(r**2, axis=1)
        s6 = (sigma**2 / d2) ** 3
        E = np.sum(4 * eps * (s6**2 - s6))
        dEdd2 = 4 * eps * (-6 * s6**2 + 3 * s6) / d2          # dE/d(d^2)
        fb = -2 * dEdd2[:, None] * r                            # force on b
        F = np.zeros_like(pos)
        np.add.at(F, b, fb)                                     # test helper, not a hot path
        np.add.at(F, a, -fb)
        return E, F
    return energy_and_forces


def lj_cluster(rng, n=7):
    """n atoms near a compact arrangement (fcc-like spacing 3.8 A), slightly displaced."""
    grid = np.array([[0, 0, 0], [1, 0, 0], [0, 1, 0], [0, 0, 1], [1, 1, 0], [1, 0, 1], [0, 1, 1], [1, 1, 1]])[:n]
    return 3.8 * grid + rng.normal(scale=0.05, size=(n, 3))


# ----------------------------------------------------------------------------- units
def test_unit_constant_from_si():
    """1 eV/(amu A) in A/fs^2, and 1 amu A^2/fs^2 = 103.6427 eV."""
    assert md.EV_PER_AMU_A_TO_A_PER_FS2 == pytest.approx(9.64853321e-3, rel=1e-8)
    assert 1.0 / md.EV_PER_AMU_A_TO_A_PER_FS2 == pytest.approx(103.642697, rel=1e-6)


def test_h2_vibration_matches_its_known_wavenumber():
    """H2 with the force constant 575 N/m vibrates at about 4401 cm^-1 (its harmonic wavenumber)."""
    k = 575.0 / md.ELEMENTARY_CHARGE * 1e-20          # N/m = J/m^2 -> eV/A^2 (35.9)
    m = md.masses_of([1, 1])
    pos = np.array([[0.0, 0.0, 0.0], [0.80, 0.0, 0.0]])   # stretched from r0 = 0.74 A, at rest
    traj = md.run_nve(harmonic_bond(k, 0.74), pos, np.zeros((2, 3)), m, dt=0.01, n_steps=2000)
    x = traj.pos[:, 1, 0] - traj.pos[:, 0, 0] - 0.74
    up = np.flatnonzero((x[:-1] < 0) & (x[1:] >= 0))   # upward zero crossings, linearly interpolated
    t_up = traj.time[up] + 0.01 * (-x[up]) / (x[up + 1] - x[up])
    period = np.mean(np.diff(t_up))
    wavenumber = 1.0 / (C_CM_PER_FS * period)
    assert wavenumber == pytest.approx(4401.0, rel=5e-3)


@pytest.mark.parametrize("dt", [0.1, 0.5])
def test_harmonic_period_and_amplitude(dt):
    """One particle in E = k/2 |x|^2: x(t) = A cos(w t), w = sqrt(k/m * factor); Verlet error O(dt^2)."""
    k, m, A = 20.0, np.array([12.011]), 0.1
    w = np.sqrt(k / m[0] * md.EV_PER_AMU_A_TO_A_PER_FS2)
    period = 2 * np.pi / w
    n = int(round(3 * period / dt))
    ef = lambda p: (0.5 * k * np.sum(p**2), -k * p)
    traj = md.run_nve(ef, np.array([[A, 0.0, 0.0]]), np.zeros((1, 3)), m, dt=dt, n_steps=n)
    exact = A * np.cos(w * traj.time)
    # Verlet's frequency error is w dt^2 w^2 / 24, so after 3 periods the phase lags by (w dt)^2 pi / 4
    err = np.max(np.abs(traj.pos[:, 0, 0] - exact)) / (A * (w * dt) ** 2)
    assert 0.5 < err < 1.0


def test_kinetic_energy_in_ev():
    """An H atom at 0.1 A/fs = 10 km/s has 1/2 m v^2 = 0.5 * 1.008 amu * 1e8 m^2/s^2 = 0.5225 eV."""
    K = md.kinetic_energy(np.array([[0.1, 0.0, 0.0]]), md.masses_of([1]))
    assert K == pytest.approx(0.5 * 1.008 * md.DALTON * 1e8 / md.ELEMENTARY_CHARGE, rel=1e-12)


# ----------------------------------------------------------------------------- Verlet properties
def test_energy_conserved_in_lj_cluster():
    rng = np.random.default_rng(0)
    pos = lj_cluster(rng)
    m = np.full(len(pos), 39.948)
    vel = md.maxwell_boltzmann(m, 60.0, rng)
    traj = md.run_nve(lennard_jones(), pos, vel, m, dt=2.0, n_steps=2000, every=10)
    drift = abs(traj.total[-200:].mean() - traj.total[:20].mean())
    assert np.std(traj.kinetic) > 1e-3                                 # the cluster really moves
    assert np.ptp(traj.total) < 0.05 * np.ptp(traj.potential)           # total far steadier than its parts
    assert drift < 1e-3 * np.ptp(traj.potential)


def test_energy_error_shrinks_as_dt_squared():
    rng = np.random.default_rng(1)
    pos, m = lj_cluster(rng), np.full(7, 39.948)
    vel = md.maxwell_boltzmann(m, 60.0, rng)
    spread = [np.ptp(md.run_nve(lennard_jones(), pos, vel, m, dt=dt, n_steps=int(400 / dt)).total)
              for dt in (4.0, 2.0)]
    assert 3.0 < spread[0] / spread[1] < 5.5


def test_time_reversible():
    rng = np.random.default_rng(2)
    pos, m = lj_cluster(rng), np.full(7, 39.948)
    vel = md.maxwell_boltzmann(m, 80.0, rng)
    fwd = md.run_nve(lennard_jones(), pos, vel, m, dt=2.0, n_steps=300)
    back = md.run_nve(lennard_jones(), fwd.pos[-1], -fwd.vel[-1], m, dt=2.0, n_steps=300)
    assert np.max(np.abs(fwd.pos[-1] - pos)) > 0.1                     # it went somewhere
    assert np.max(np.abs(back.pos[-1] - pos)) < 1e-8
    assert np.max(np.abs(back.vel[-1] + vel)) < 1e-10


def test_momentum_conserved():
    rng = np.random.default_rng(3)
    pos, m = lj_cluster(rng), rng.uniform(1.0, 40.0, size=7)
    vel = md.maxwell_boltzmann(m, 100.0, rng) + np.array([1e-3, -2e-3, 0.5e-3])   # a moving centre of mass
    traj = md.run_nve(lennard_jones(), pos, vel, m, dt=1.0, n_steps=500)
    p = np.einsum("a,tak->tk", m, traj.vel)
    assert np.max(np.abs(p - p[0])) < 1e-12 * np.abs(m[:, None] * vel).sum() + 1e-15
    assert np.abs(p[0] - m @ vel).max() < 1e-14


def test_single_step_matches_the_formula():
    rng = np.random.default_rng(4)
    pos, vel, m = rng.normal(size=(5, 3)), rng.normal(size=(5, 3)) * 0.01, rng.uniform(1, 16, size=5)
    k, dt, c = 3.0, 0.7, md.EV_PER_AMU_A_TO_A_PER_FS2
    x1, v1, f1 = md.velocity_verlet_step(pos, vel, -k * pos, m, dt, lambda p: -k * p)
    a0, x_expect = -k * pos * c / m[:, None], pos + dt * vel + 0.5 * dt**2 * (-k * pos) * c / m[:, None]
    assert np.allclose(x1, x_expect, rtol=1e-13, atol=1e-15)
    assert np.allclose(v1, vel + 0.5 * dt * (a0 - k * x1 * c / m[:, None]), rtol=1e-13, atol=1e-15)
    assert np.allclose(f1, -k * x1)


# ----------------------------------------------------------------------------- initial velocities
def test_maxwell_boltzmann_temperature_and_momentum():
    rng = np.random.default_rng(5)
    m = md.masses_of(rng.choice([1, 6, 7, 8], size=3000))
    vel = md.maxwell_boltzmann(m, 400.0, rng)
    assert np.abs(m @ vel).max() < 1e-10
    assert md.temperature(vel, m) == pytest.approx(400.0, rel=0.03)
    # lighter atoms move faster: <m v^2> is the same for H and O
    light, heavy = m < 2, m > 15
    ratio = (m[light] @ np.sum(vel[light] ** 2, 1) / light.sum()) / (m[heavy] @ np.sum(vel[heavy] ** 2, 1) / heavy.sum())
    assert ratio == pytest.approx(1.0, rel=0.1)


def test_maxwell_boltzmann_seeded():
    m = md.masses_of([6, 1, 1, 1, 8])
    a = md.maxwell_boltzmann(m, 300.0, np.random.default_rng(7))
    b = md.maxwell_boltzmann(m, 300.0, np.random.default_rng(7))
    assert np.array_equal(a, b)
    assert np.all(md.maxwell_boltzmann(m, 0.0, np.random.default_rng(7)) == 0)


# ----------------------------------------------------------------------------- relaxation
def test_relax_finds_the_lj_minimum_of_a_dimer():
    """The LJ dimer minimum is at d = 2^(1/6) sigma with E = -eps."""
    lj = lennard_jones(eps=0.0104, sigma=3.4)
    res = md.relax(lambda Z, p: lj(p), [18, 18], np.array([[0.0, 0.0, 0.0], [4.5, 0.3, -0.2]]), fmax=1e-6)
    assert res.converged and res.max_force <= 1e-6
    assert np.linalg.norm(res.pos[1] - res.pos[0]) == pytest.approx(2 ** (1 / 6) * 3.4, rel=1e-5)
    assert res.energy == pytest.approx(-0.0104, rel=1e-8)
    assert res.energies[0] > res.energies[-1] and len(res.energies) == res.n_iter + 1


def test_relax_harmonic_bowl_and_reported_energies():
    rng = np.random.default_rng(8)
    centre = rng.normal(size=(4, 3))
    ef = lambda Z, p: (np.array([np.sum((p - centre) ** 2)]), -2.0 * (p - centre))    # E shaped (1,) like a model's
    res = md.relax(ef, [1, 6, 7, 8], centre + rng.normal(size=(4, 3)), fmax=1e-5)
    assert np.abs(res.pos - centre).max() < 1e-5
    assert np.all(np.diff(res.energies) <= 1e-12)                    # L-BFGS with line search never goes up here


# ----------------------------------------------------------------------------- errors
def test_bad_inputs_raise_value_errors():
    ef = lambda p: (0.0, -p)
    pos, vel, m = np.zeros((2, 3)), np.zeros((2, 3)), np.ones(2)
    with pytest.raises(ValueError, match="dt"):
        md.run_nve(ef, pos, vel, m, dt=-1.0, n_steps=3)
    with pytest.raises(ValueError, match="masses"):
        md.run_nve(ef, pos, vel, np.array([1.0, 0.0]), dt=1.0, n_steps=3)
    with pytest.raises(ValueError, match="vel"):
        md.run_nve(ef, pos, np.zeros((3, 3)), m, dt=1.0, n_steps=3)
    with pytest.raises(ValueError, match="every"):
        md.run_nve(ef, pos, vel, m, dt=1.0, n_steps=3, every=0)
    with pytest.raises(ValueError, match="force_fn"):
        md.velocity_verlet_step(pos, vel, vel, m, 1.0, lambda p: np.zeros(3))
    with pytest.raises(ValueError, match="energy_and_forces"):
        md.run_nve(lambda p: (np.zeros(2), -p), pos, vel, m, dt=1.0, n_steps=1)
    with pytest.raises(ValueError, match="Z"):
        md.masses_of([1, 92])
    with pytest.raises(ValueError, match="temp"):
        md.maxwell_boltzmann(m, -5.0, np.random.default_rng(0))
    with pytest.raises(ValueError, match="Z"):
        md.relax(lambda Z, p: (0.0, -p), [1], pos)
    with pytest.raises(ValueError, match="fmax"):
        md.relax(lambda Z, p: (0.0, -p), [1, 1], pos, fmax=0)
    with pytest.raises(ValueError, match="pos"):
        md.run_nve(ef, np.full((2, 3), np.nan), vel, m, dt=1.0, n_steps=1)


def test_frames_every_and_temperature_bookkeeping():
    rng = np.random.default_rng(9)
    pos, m = lj_cluster(rng), np.full(7, 39.948)
    vel = md.maxwell_boltzmann(m, 50.0, rng)
    full = md.run_nve(lennard_jones(), pos, vel, m, dt=2.0, n_steps=30)
    thin = md.run_nve(lennard_jones(), pos, vel, m, dt=2.0, n_steps=30, every=7)
    assert full.pos.shape == (31, 7, 3) and thin.pos.shape == (5, 7, 3)
    assert np.array_equal(thin.time, [0.0, 14.0, 28.0, 42.0, 56.0])
    assert np.array_equal(thin.pos, full.pos[::7]) and np.array_equal(thin.potential, full.potential[::7])
    assert full.potential[0] == pytest.approx(lennard_jones()(pos)[0], rel=1e-14)
    assert full.temperature[5] == pytest.approx(md.temperature(full.vel[5], m), rel=1e-12)
    assert full.kinetic[5] == pytest.approx(md.kinetic_energy(full.vel[5], m), rel=1e-12)
