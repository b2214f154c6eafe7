"""Time one SchNet training step: forward, forces, energy+force loss and its gradient, Adam update.

Batch of 10 ethanol configurations from the shipped DFT set (90 atoms, 720 edges with the
5 A cutoff: every pair of a 9-atom molecule, so 360 atom pairs whose distances and filters
are computed once for both directions), 64 features and filters, 6 interactions,
20 Gaussians. A step costs three forward and three backward passes (``loss_and_grads``: the
main pass for the forces, then two passes at displaced positions that give the whole parameter
gradient, the force term as a Hessian-vector product by central differences).

Measured 2026-11-27 on the project's 2-core machine, quiet, OPENBLAS_NUM_THREADS=1: median 30 ms
per step (schnetpack, PyTorch float32: about 22 ms); see the README's Benchmarks for what limits it.

    python benchmarks/bench_schnet.py              # timing
    python benchmarks/bench_schnet.py --profile    # plus the top functions by own time (cProfile)
"""
import argparse
import cProfile
import io
import pstats
import time

import numpy as np

from refimpl.data.md17 import load_ethanol
from refimpl.core.optim import Adam
from refimpl.models.schnet import SchNet, fit_atomref


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--interactions", type=int, default=6)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    data = load_ethanol()
    model = SchNet(n_atom_basis=args.features, n_filters=args.features, n_interactions=args.interactions,
                   n_rbf=20, cutoff=5.0, seed=0)
    b = data.batch(np.arange(args.batch))
    fit_atomref(model, b["Z"], b["E"], b["batch"])
    opt = Adam(model.params, lr=1e-4)
    rng = np.random.default_rng(0)
    batches = [data.batch(rng.choice(len(data), args.batch, replace=False)) for _ in range(args.steps)]

    def step(batch):
        loss, grads = model.loss_and_grads(batch, 1.0, 100.0)
        opt.step(grads)
        return loss

    step(batches[0])                                   # warm-up
    times = []
    for batch in batches:
        start = time.perf_counter()
        step(batch)
        times.append(time.perf_counter() - start)
    times = np.array(times) * 1e3
    n_params = sum(v.size for v in model.params.values())
    print(f"SchNet F={args.features}, T={args.interactions}, batch {args.batch} x {data.z.size} atoms, "
          f"{n_params} parameters")
    print(f"training step (E+F loss, gradient, Adam): median {np.median(times):.1f} ms, "
          f"min {times.min():.1f} ms over {args.steps} steps")
    start = time.perf_counter()
    for batch in batches[:10]:
        model.energy_and_forces(batch["Z"], batch["pos"], batch["batch"])
    print(f"energy_and_forces alone: {(time.perf_counter() - start) * 100:.1f} ms per batch")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for batch in batches[:10]:
            step(batch)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
        print(out.getvalue())


if __name__ == "__main__":
    main()
