"""Generate the shipped ethanol dataset: DFT energies and forces of thermally displaced geometries.

Level of theory: B3LYP/6-31G(d), restricted Kohn-Sham, computed with PySCF (>= 2.3, where
``b3lyp`` is the VWN-RPA variant, the same as Gaussian's), with density fitting of the
Coulomb and exchange integrals (PySCF's default auxiliary basis for 6-31G(d)); one configuration
costs about 18 CPU-seconds (PySCF 2.14; about 9 s on 2 idle threads). Energies and forces are consistent: the forces are
the analytic gradients of the same (density-fitted) energy, including the response of the DFT
integration grid to the atoms' motion (``grid_response``). Without it the forces differ from
the energy's derivative by ~3e-3 eV/A (0.6 % of the tested component) and do not sum to zero.

Sampling procedure (normal-mode sampling, classical Boltzmann distribution at T = 500 K):

1. Start from a staggered, anti (trans) ethanol geometry and relax it with BFGS on the DFT
   energy (scipy.optimize, analytic gradients) until max |gradient| < 1e-4 Hartree/Bohr.
   (For the shipped file this step ran before ``grid_response`` was switched on; the two
   gradients differ by ~1e-4 Hartree/Bohr, so the minimum moves by a negligible amount.)
2. Compute the analytic Hessian H there once, mass-weight it, Hm = M^-1/2 H M^-1/2, project out
   the 3 translations and 3 rotations, and diagonalize: Hm L = L diag(w^2). Keep the 21
   vibrational modes (all w^2 > 0 at a minimum).
3. For sample s, draw every mode amplitude independently from the classical harmonic
   Boltzmann distribution, q_k ~ Normal(0, k_B T / w_k^2), and displace
   x = x_eq + M^-1/2 sum_k q_k L_k. A sample is rejected when a covalent bond (a pair closer
   than 1.6 A at the minimum) is longer or shorter than at the minimum by more than 0.15 A
   (about 5 standard deviations of a harmonic X-H stretch at 500 K), or when two atoms are
   nearer than 0.7 A. The bond test removes an artefact of Cartesian normal modes: the
   hydroxyl and methyl torsions are low-frequency modes with large amplitudes, and moving a
   hydrogen in a straight line along the tangent of the torsion circle stretches its bond (up to
   +0.4 A and +2.5 eV for O-H before the test). About 17 % of the candidates are rejected;
   the count is stored in the metadata.
4. Run DFT (energy and analytic forces) on each accepted geometry, starting the SCF from the
   equilibrium density matrix (so a result does not depend on the order of the run).

All random numbers come from ``np.random.default_rng(seed)``; the candidates are drawn (3 n of
them) and filtered at every start from the stored minimum and Hessian, so a resumed run
computes exactly the same geometries.

Units: PySCF works in Hartree and Bohr. We pass coordinates in Bohr ourselves and convert with
CODATA 2018 constants: 1 Hartree = 27.211386245988 eV, 1 Bohr = 0.529177210903 A,
k_B = 8.617333262e-5 eV/K, 1 Da = 1822.888486209 m_e. Output: R in A, E in eV (total
electronic energy, not shifted), F in eV/A.

Checkpointing: every ``--every`` configurations the results so far are written atomically to
``--checkpoint`` (default ``build/ethanol_dft.partial.npz``, outside the package so that an
install never ships it; together with the equilibrium geometry and Hessian); rerunning the same
command resumes from there. When ``--n`` configurations are done, ``<out>`` is written with keys
z (9,), R (n, 9, 3), E (n,), F (n, 9, 3) and ``metadata`` (a JSON string). ``--finalize``
writes ``<out>`` from whatever the partial file holds.

If the partial file is lost, ``--seed-from <finished npz>`` starts a new one from a finished
dataset: the minimum and Hessian are recomputed, the candidates redrawn, and the file's
configurations are taken over when they agree with the first candidates to 1e-4 A (the agreement is
stored in the metadata under ``seeded_from``); the run then computes the rest. For the shipped file
this needed ``--relax-without-grid-response``, which relaxes as its first run did (see step 1).

``--check-fd`` compares one force component of the first configuration with a central finite
difference of the DFT energy (step 1e-3 Bohr, tight SCF) and stores the result in the metadata.

Usage (PySCF is only needed here, not by the course; see tools/requirements-data.txt):

    nohup nice -n 19 env OMP_NUM_THREADS=2 /work/venv-data/bin/python tools/generate_ethanol.py \
        --n 1000 --out refimpl/data/ethanol_dft.npz --check-fd > /tmp/ethanol.log 2>&1 &
"""
import argparse
import datetime
import json
import os
import time

import numpy as np

HARTREE_EV = 27.211386245988        # CODATA 2018
BOHR_A = 0.529177210903             # CODATA 2018
KB_EV = 8.617333262e-5              # CODATA 2018 (exact)
DALTON_ME = 1822.888486209          # CODATA 2018, electron masses per dalton
KB_HARTREE = KB_EV / HARTREE_EV

SYMBOLS = ["C", "C", "O", "H", "H", "H", "H", "H", "H"]
Z = np.array([6, 6, 8, 1, 1, 1, 1, 1, 1])
MASSES_DA = {1: 1.008, 6: 12.011, 8: 15.999}      # standard atomic weights (IUPAC, conventional)

# Starting guess (A): staggered anti ethanol; CH2 carbon C0, methyl C1, hydroxyl O2-H3.
START_A = np.array([
    [-0.0017, 0.5905, 0.0000], [-1.2210, -0.3036, 0.0000], [1.1658, -0.2302, 0.0000],
    [1.9120, 0.3782, 0.0000], [-0.0426, 1.2358, 0.8851], [-0.0426, 1.2358, -0.8851],
    [-2.1386, 0.2930, 0.0000], [-1.2143, -0.9456, 0.8855], [-1.2143, -0.9456, -0.8855]])

XC, BASIS = "b3lyp", "6-31g(d)"


def make_mf(x_bohr, conv_tol=1e-10):
    """A density-fitted B3LYP/6-31G(d) RKS object at positions x_bohr (9, 3)."""
    from pyscf import dft, gto
    mol = gto.M(atom=list(zip(SYMBOLS, x_bohr.tolist())), basis=BASIS, unit="Bohr", verbose=0)
    mf = dft.RKS(mol)
    mf.xc = XC
    mf.conv_tol = conv_tol
    return mf.density_fit()


def energy_gradient(x_bohr, dm0=None, conv_tol=1e-10, grid_response=True):
    """(E in Hartree, dE/dx in Hartree/Bohr (9, 3), density matrix, mf)."""
    mf = make_mf(x_bohr, conv_tol)
    e = mf.kernel(dm0=dm0)
    if not mf.converged:
        raise RuntimeError("SCF did not converge")
    grad = mf.nuc_grad_method()
    grad.grid_response = grid_response  # differentiate the grid weights too: forces = -dE/dx exactly
    g = grad.kernel()
    return e, g, mf.make_rdm1(), mf


def relax(x0_bohr, gtol=1e-4, grid_response=True):
    """BFGS relaxation on the DFT surface; returns (x_eq (9, 3) Bohr, E_eq Hartree, n_steps)."""
    from scipy.optimize import minimize
    state = {"dm": None}

    def fun(flat):
        e, g, state["dm"], _ = energy_gradient(flat.reshape(9, 3), state["dm"], grid_response=grid_response)
        print(f"  relax: E = {e:.10f} Ha, max|g| = {np.abs(g).max():.2e} Ha/Bohr", flush=True)
        return e, g.ravel()

    res = minimize(fun, x0_bohr.ravel(), jac=True, method="BFGS", options={"gtol": gtol, "norm": np.inf})
    return res.x.reshape(9, 3), float(res.fun), int(res.nit)


def hessian(x_bohr):
    """Analytic Hessian (27, 27) in Hartree/Bohr^2 and the equilibrium density matrix."""
    e, g, dm, mf = energy_gradient(x_bohr)
    h = mf.Hessian().kernel()                      # (9, 9, 3, 3): atom a, atom b, xyz, xyz
    return h.transpose(0, 2, 1, 3).reshape(27, 27), dm, e, g


def normal_modes(h, x_bohr):
    """Vibrational modes of the mass-weighted Hessian with translations/rotations projected out.

    Returns (w2 (21,) in Hartree/(Bohr^2 m_e), L (27, 21) orthonormal mass-weighted modes, sqrt_m (27,)).
    """
    m = np.array([MASSES_DA[z] for z in Z]) * DALTON_ME
    sqrt_m = np.repeat(np.sqrt(m), 3)
    hm = h / np.outer(sqrt_m, sqrt_m)
    com = (m[:, None] * x_bohr).sum(0) / m.sum()
    d = x_bohr - com
    rigid = []
    for k in range(3):                                  # translations
        t = np.zeros((9, 3)); t[:, k] = 1.0
        rigid.append((t * np.sqrt(m)[:, None]).ravel())
    for k in range(3):                                  # rotations about the centre of mass
        axis = np.zeros(3); axis[k] = 1.0
        rigid.append((np.cross(axis, d) * np.sqrt(m)[:, None]).ravel())
    q, _ = np.linalg.qr(np.array(rigid).T)              # (27, 6) orthonormal rigid motions
    p = np.eye(27) - q @ q.T
    w2, vec = np.linalg.eigh(p @ hm @ p)
    order = np.argsort(w2)[6:]                          # drop the 6 (near-)zero rigid modes
    return w2[order], vec[:, order], sqrt_m


def draw_displacements(rng, w2, L, sqrt_m, temperature, count):
    """Cartesian displacements (count, 9, 3) Bohr with q_k ~ N(0, k_B T / w_k^2)."""
    if np.any(w2 <= 0):
        raise RuntimeError(f"non-positive vibrational eigenvalues {w2[w2 <= 0]}: not a minimum")
    q = rng.normal(size=(count, w2.size)) * np.sqrt(KB_HARTREE * temperature / w2)
    return ((q @ L.T) / sqrt_m).reshape(count, 9, 3)


def accepted(x, x_eq, max_bond_change=0.15, min_pair=0.7):
    """Which configurations x (n, 9, 3) A pass the bond-length and closest-pair tests (see above)."""
    d = np.linalg.norm(x[:, :, None] - x[:, None], axis=-1)
    d_eq = np.linalg.norm(x_eq[:, None] - x_eq[None], axis=-1)
    bonds = np.triu(d_eq < 1.6, 1)
    bond_ok = np.abs(d[:, bonds] - d_eq[bonds]).max(axis=1) <= max_bond_change
    pair_ok = d[:, ~np.eye(9, dtype=bool)].min(axis=1) >= min_pair
    return bond_ok & pair_ok


def candidates(state, n, temperature, seed):
    """The first n accepted samples (n, 9, 3) Bohr and their positions among all candidates (n,)."""
    w2, L, sqrt_m = normal_modes(state["hessian"], state["x_eq"])
    rng = np.random.default_rng(seed)
    x_all = state["x_eq"] + draw_displacements(rng, w2, L, sqrt_m, temperature, 3 * n)
    used = np.flatnonzero(accepted(x_all * BOHR_A, state["x_eq"] * BOHR_A))[:n]
    return x_all[used], used


def save_atomic(path, **arrays):
    tmp = path + ".tmp.npz"
    np.savez(tmp, **arrays)
    os.replace(tmp, path)


def fd_check(x_bohr, dm0, atom=2, comp=0, h=1e-3):
    """Central difference of the DFT energy along one coordinate vs the analytic force (eV/A)."""
    e, g, _, _ = energy_gradient(x_bohr, dm0, conv_tol=1e-12)
    vals = []
    for s in (+1, -1):
        xs = x_bohr.copy(); xs[atom, comp] += s * h
        vals.append(energy_gradient(xs, dm0, conv_tol=1e-12)[0])
    fd = -(vals[0] - vals[1]) / (2 * h) * HARTREE_EV / BOHR_A
    an = -g[atom, comp] * HARTREE_EV / BOHR_A
    return {"atom": atom, "component": "xyz"[comp], "step_bohr": h, "force_fd_eV_per_A": fd,
            "force_analytic_eV_per_A": an, "abs_diff_eV_per_A": abs(fd - an)}


def metadata(info, n_done):
    from pyscf import __version__ as pyscf_version
    meta = {
        "molecule": "ethanol C2H5OH (atoms: C, C, O, H(O), H, H, H, H, H)",
        "units": {"R": "Angstrom", "E": "eV (total electronic energy)", "F": "eV/Angstrom"},
        "level_of_theory": "DFT RKS B3LYP (PySCF b3lyp = VWN-RPA variant), density fitting",
        "basis": BASIS, "code": f"PySCF {pyscf_version}",
        "auxbasis": info.get("auxbasis"),
        "conv_tol_hartree": 1e-10, "grid_response": True, "dft_grid_level": 3,
        "sampling": ("normal-mode sampling around the B3LYP/6-31G(d) minimum: classical harmonic "
                     "Boltzmann amplitudes q_k ~ N(0, kB T / w_k^2) on the 21 vibrational modes of "
                     "the analytic Hessian; samples rejected when a covalent bond (< 1.6 A at the "
                     "minimum) changes by more than 0.15 A or two atoms are closer than 0.7 A"),
        "temperature_K": info["temperature"], "seed": info["seed"],
        "n_configurations": n_done, "n_rejected": info.get("n_rejected", 0),
        "constants": {"hartree_eV": HARTREE_EV, "bohr_A": BOHR_A, "kB_eV_per_K": KB_EV,
                      "dalton_me": DALTON_ME, "source": "CODATA 2018"},
        "equilibrium_energy_eV": info["E_eq"] * HARTREE_EV,
        "harmonic_wavenumbers_cm-1": info.get("wavenumbers"),
        "fd_check": info.get("fd_check"),
        "relaxation_grid_response": info.get("relax_grid_response", True),
        "seeded_from": info.get("seeded_from"),
        "seconds_per_config": info.get("seconds_per_config"),
        "date": datetime.datetime.now(datetime.timezone.utc).strftime("%Y-%m-%d"),
        "script": "tools/generate_ethanol.py",
    }
    return json.dumps(meta)


def write_final(out, part, used):
    """Write the dataset; ``used`` (candidate index of each accepted sample) gives the rejection count."""
    info = json.loads(str(part["info"]))
    n = int(part["E"].shape[0])
    info["n_rejected"] = int(used[n - 1] + 1 - n) if n else 0
    save_atomic(out, z=Z.copy(), R=part["R"] * BOHR_A, E=part["E"] * HARTREE_EV,
                F=-part["G"] * HARTREE_EV / BOHR_A, metadata=np.array(metadata(info, n)))
    print(f"wrote {out} with {n} configurations", flush=True)


def keep_matching(state, x_all):
    """Keep the computed rows that are the first candidates of ``x_all`` (after a change of the
    rejection test, the computed geometries that still pass are exactly a prefix of the new list)."""
    R = state["R"]
    ok = accepted(R * BOHR_A, state["x_eq"] * BOHR_A) if R.shape[0] else np.zeros(0, bool)
    k = int(ok.sum())
    # rows taken over from a finished dataset (--seed-from) match the candidates to within the
    # deviation measured when they were taken over; rows computed here match exactly
    tol = json.loads(str(state["info"])).get("seeded_from", {}).get("max_deviation_bohr", 0.0)
    if R[ok].shape != x_all[:k].shape or np.abs(R[ok] - x_all[:k]).max(initial=0.0) > tol:
        raise SystemExit("partial file: computed geometries do not match the candidates (other seed?)")
    if k < R.shape[0]:
        print(f"dropping {R.shape[0] - k} computed configurations rejected by the current test", flush=True)
    state = dict(state)
    state.update(R=R[ok], E=state["E"][ok], G=state["G"][ok])
    state.pop("x_all", None)
    return state


def seed_from(state, path, x_all):
    """Take over the configurations of a finished dataset written by this script (same seed and
    temperature) when they are the first candidates of ``x_all``; used after the partial file is
    lost. Its geometries must agree with the recomputed candidates to 1e-4 A."""
    with np.load(path, allow_pickle=False) as f:
        R, E, F = f["R"] / BOHR_A, f["E"] / HARTREE_EV, f["F"]
        meta = json.loads(str(f["metadata"]))
    info = json.loads(str(state["info"]))
    if (meta["seed"], meta["temperature_K"]) != (info["seed"], info["temperature"]):
        raise SystemExit(f"--seed-from {path}: seed/temperature {meta['seed']}/{meta['temperature_K']} "
                         f"differ from this run's {info['seed']}/{info['temperature']}")
    n = R.shape[0]
    dev = float(np.abs(R - x_all[:n]).max())
    print(f"--seed-from {path}: {n} configurations, max deviation from the recomputed candidates "
          f"{dev * BOHR_A:.1e} A", flush=True)
    if dev * BOHR_A > 1e-4:
        raise SystemExit("--seed-from: geometries differ from the candidates (other minimum or seed?)")
    if meta.get("fd_check") and "fd_check" not in info:
        info["fd_check"] = meta["fd_check"]          # its configuration 0 is ours too
    info["seeded_from"] = {"configurations": n, "date": meta.get("date"), "max_deviation_bohr": dev,
                           "equilibrium_energy_eV": meta.get("equilibrium_energy_eV")}
    state = dict(state)
    state.update(R=R, E=E, G=-F * BOHR_A / HARTREE_EV, info=np.array(json.dumps(info)))
    return state


def setup(args, partial):
    """Relax, Hessian, displacements; stored in the partial file so a resume skips them."""
    t0 = time.time()
    x_eq, e_eq, nit = relax(START_A / BOHR_A, grid_response=not args.relax_without_grid_response)
    print(f"relaxed in {nit} steps, {time.time() - t0:.0f} s", flush=True)
    t0 = time.time()
    h, dm_eq, e_eq, g_eq = hessian(x_eq)
    print(f"Hessian in {time.time() - t0:.0f} s; max|g| at minimum {np.abs(g_eq).max():.1e}", flush=True)
    w2, _, _ = normal_modes(h, x_eq)
    # w in atomic units of angular frequency -> wavenumber: E = hbar w in Hartree; 1 Hartree = 219474.63 cm^-1
    wavenumbers = (np.sign(w2) * np.sqrt(np.abs(w2)) * 219474.6313632).round(1).tolist()
    print("harmonic wavenumbers (cm^-1):", wavenumbers, flush=True)
    info = {"temperature": args.temperature, "seed": args.seed, "E_eq": e_eq,
            "relax_grid_response": not args.relax_without_grid_response,
            "wavenumbers": wavenumbers, "auxbasis": str(make_mf(x_eq).with_df.auxbasis)}
    state = dict(x_eq=x_eq, dm_eq=dm_eq, hessian=h, R=np.zeros((0, 9, 3)),
                 E=np.zeros(0), G=np.zeros((0, 9, 3)), info=np.array(json.dumps(info)))
    save_atomic(partial, **state)
    return state


def main():
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--n", type=int, default=1000, help="number of configurations")
    ap.add_argument("--out", default="refimpl/data/ethanol_dft.npz")
    ap.add_argument("--temperature", type=float, default=500.0, help="sampling temperature (K)")
    ap.add_argument("--seed", type=int, default=0)
    ap.add_argument("--every", type=int, default=10, help="checkpoint every this many configurations")
    ap.add_argument("--check-fd", action="store_true", help="finite-difference check on configuration 0")
    ap.add_argument("--finalize", action="store_true", help="write --out from the partial file and stop")
    ap.add_argument("--relax-without-grid-response", action="store_true",
                    help="relax as the run behind the shipped file did (grid response off in the "
                         "relaxation only); reproduces its minimum and so its candidates")
    ap.add_argument("--seed-from", metavar="NPZ",
                    help="when starting a new partial file, take over the configurations of this "
                         "finished dataset (they must match the recomputed candidates)")
    ap.add_argument("--checkpoint", default=os.path.join(os.path.dirname(os.path.abspath(__file__)), "..",
                                                         "build", "ethanol_dft.partial.npz"),
                    help="the partial file (kept outside refimpl/ so that no install ships it)")
    args = ap.parse_args()
    partial = args.checkpoint
    os.makedirs(os.path.dirname(partial) or ".", exist_ok=True)

    if os.path.exists(partial):
        with np.load(partial, allow_pickle=False) as f:
            state = {k: f[k] for k in f.files}
        print(f"resuming from {partial}: {state['E'].shape[0]} done", flush=True)
    elif args.finalize:
        raise SystemExit(f"--finalize: no partial file {partial}")
    else:
        state = setup(args, partial)
    info = json.loads(str(state["info"]))
    x_all, used = candidates(state, args.n, info["temperature"], info["seed"])
    state = keep_matching(state, x_all)
    if args.seed_from and state["E"].shape[0] == 0:
        state = seed_from(state, args.seed_from, x_all)
        info = json.loads(str(state["info"]))
        save_atomic(partial, **state)
    if args.finalize:
        write_final(args.out, state, used)
        return
    if args.check_fd and "fd_check" not in info:
        info["fd_check"] = fd_check(x_all[0], state["dm_eq"])
        print("finite-difference check:", info["fd_check"], flush=True)
        state["info"] = np.array(json.dumps(info))
        save_atomic(partial, **state)

    R, E, G = list(state["R"]), list(state["E"]), list(state["G"])
    dm_eq = state["dm_eq"]
    n_target = x_all.shape[0]
    t_start, n_start = time.time(), len(E)
    for i in range(len(E), n_target):
        e, g, _, _ = energy_gradient(x_all[i], dm_eq)
        R.append(x_all[i]); E.append(e); G.append(g)
        done = i + 1
        if done % args.every == 0 or done == n_target:
            rate = (time.time() - t_start) / (done - n_start)
            info["seconds_per_config"] = round(rate, 2)
            state.update(R=np.array(R), E=np.array(E), G=np.array(G), info=np.array(json.dumps(info)))
            save_atomic(partial, **state)
            print(f"{done}/{n_target} configs, {rate:.2f} s/config, "
                  f"{datetime.datetime.now(datetime.timezone.utc):%H:%M:%S} UTC", flush=True)
    write_final(args.out, state, used)


if __name__ == "__main__":
    main()
