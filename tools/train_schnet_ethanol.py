"""Train the SchNet that ships as refimpl/data/schnet_ethanol_params.npz (used by the MD chapter).

Data: the shipped ethanol set (``refimpl.data.md17.load_ethanol``: B3LYP/6-31G(d) energies and
forces of normal-mode samples at 500 K), or ``--data PATH``, a file of the same layout (keys z,
R, E, F in Angstrom, eV, eV/A). Split: configurations are taken in file order: the first
``--n-train`` fit the model, the next ``--n-val`` monitor it; all later ones are held out (the
data generator draws every geometry before the first DFT call, so the order never changes).

Model: SchNet with F = 32 features, 32 filters, 3 interactions, 20 Gaussians, cutoff 5 A;
``fit_atomref`` sets the per-element energy offsets first. Loss:
L = mean (E - E_ref)^2 + w_F mean (F - F_ref)^2 (eV^2 and (eV/A)^2), Adam with a learning rate
that is divided by 10 for the last fifth of the steps.

    python tools/train_schnet_ethanol.py                         # about a minute on one core
    python tools/train_schnet_ethanol.py --data other.npz --out /tmp/params.npz

It prints the progress and, at the end, the MAEs on the validation and held-out configurations,
which are also stored in the file's ``config``.

The shipped file was made from the full 1000-configuration set:

    OPENBLAS_NUM_THREADS=1 python tools/train_schnet_ethanol.py --n-train 400 --n-val 50 --steps 12000

(118 s on one core; MAE on the 550 held-out configurations 450-999: 10.8 meV and 24 meV/A, against
a mean-energy baseline of 154 meV).
"""
import argparse
import json
import pathlib
import sys
import time

import numpy as np

ROOT = pathlib.Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

from refimpl.data.md17 import Trajectory, load_ethanol  # noqa: E402
from refimpl.pretrained import SCHNET_ETHANOL, save_trained  # noqa: E402
from refimpl.models.schnet import SchNet, fit_atomref  # noqa: E402
from refimpl.train import evaluate, train  # noqa: E402


def load(path):
    """The dataset and a description of it for the record (the file name, not a machine's path)."""
    if path is None:
        return load_ethanol(), "refimpl/data/ethanol_dft.npz (load_ethanol)"
    with np.load(path, allow_pickle=False) as f:
        data = Trajectory(z=f["z"], R=f["R"], E=f["E"], F=f["F"])
    return data, f"{pathlib.Path(path).name} (--data, {len(data)} configurations)"


def main(argv=None):
    ap = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    ap.add_argument("--data", default=None, help="dataset file (default: the shipped ethanol set)")
    ap.add_argument("--out", default=str(ROOT / "refimpl" / "data" / SCHNET_ETHANOL))
    ap.add_argument("--n-train", type=int, default=200)
    ap.add_argument("--n-val", type=int, default=20)
    ap.add_argument("--steps", type=int, default=4000)
    ap.add_argument("--batch-size", type=int, default=10)
    ap.add_argument("--lr", type=float, default=2e-3)
    ap.add_argument("--w-forces", type=float, default=10.0)
    ap.add_argument("--seed", type=int, default=0)
    args = ap.parse_args(argv)

    data, source = load(args.data)
    n = len(data)
    if n < args.n_train + args.n_val + 1:
        raise SystemExit(f"--n-train {args.n_train} + --n-val {args.n_val}: the data has only {n} configurations")
    train_idx = np.arange(args.n_train)
    val_idx = np.arange(args.n_train, args.n_train + args.n_val)
    test_idx = np.arange(args.n_train + args.n_val, n)
    model = SchNet(n_atom_basis=32, n_filters=32, n_interactions=3, n_rbf=20, cutoff=5.0, max_z=9, seed=args.seed)
    b = data.batch(train_idx)
    fit_atomref(model, b["Z"], b["E"], b["batch"])

    t0 = time.time()
    n_fast = int(0.8 * args.steps)
    hist = [train(model, data, train_idx, val_idx, n_steps=n_fast, batch_size=args.batch_size, lr=args.lr,
                  w_forces=args.w_forces, seed=args.seed, print_every=250),
            train(model, data, train_idx, val_idx, n_steps=args.steps - n_fast, batch_size=args.batch_size,
                  lr=args.lr / 10, w_forces=args.w_forces, seed=args.seed + 1, print_every=250)]
    seconds = time.time() - t0
    errors = {name: evaluate(model, data, idx) for name, idx in
              [("train", train_idx), ("val", val_idx), ("test", test_idx)] if idx.size}
    baseline_E = float(np.mean(np.abs(data.E[test_idx] - data.E[train_idx].mean()))) if test_idx.size else None
    info = {"data": source,
            "n_configurations_in_data": n, "steps": args.steps, "batch_size": args.batch_size, "lr": args.lr,
            "lr_schedule": "lr for 80% of the steps, lr/10 after", "w_energy": 1.0, "w_forces": args.w_forces,
            "seed": args.seed, "seconds": round(seconds, 1),
            "mae_eV_and_eV_per_A": errors, "test_baseline_mean_energy_mae_eV": baseline_E,
            "history": {k: [v for h in hist for v in h[k]] for k in ("loss", "val_E_mae", "val_F_mae")},
            "script": "tools/train_schnet_ethanol.py"}
    save_trained(args.out, model, train_idx, val_idx, info)
    print(json.dumps({k: info[k] for k in ("seconds", "mae_eV_and_eV_per_A", "test_baseline_mean_energy_mae_eV")}))
    print(f"wrote {args.out}")


if __name__ == "__main__":
    main()
