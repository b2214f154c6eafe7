"""Time the compact DimeNet against SchNet, and the triplets against the edges, on two systems.

1. A batch of 10 ethanol configurations from the shipped DFT set (90 atoms), cutoff 5 A: every pair
   of a 9-atom molecule is an edge (720 edges) and every atom j has 8 neighbours, so 10 * 9 * 8 * 7 =
   5040 triplets. One energy+forces pass (forward and backward) of DimeNet (64 features, 2 blocks,
   8 bilinear, 7 x 6 basis) and of SchNet (64 features and filters, 2 interactions, 20 Gaussians).
2. 100 atoms at 0.1 atoms per cubic Angstrom (the atom density of liquid water), random in a cube,
   cutoffs 2.5, 3.5 and 4.5 A: edges, triplets, the time to list the triplets, and the same two passes.

Measured 2026-12-02 on the project's 2-core machine, busy (load about 12): ethanol 188 ms against 8 ms;
the cloud: 4.3, 11.2, 20.7 triplets per edge, DimeNet 11x, 72x, 88x SchNet's time, listing 0.1-1 ms.
Medians of --repeat runs, process (CPU) time, one thread recommended:

    OPENBLAS_NUM_THREADS=1 python benchmarks/bench_dimenet.py
"""
import argparse
import time

import numpy as np

from refimpl.data.md17 import load_ethanol
from refimpl.geometry.radius import radius_graph
from refimpl.geometry.triplets import triplets
from refimpl.models.dimenet import DimeNet
from refimpl.models.schnet import SchNet


def median_ms(fn, repeat):
    times = []
    for _ in range(repeat):
        t0 = time.process_time()
        fn()
        times.append(time.process_time() - t0)
    return 1e3 * float(np.median(times))


def passes(Z, pos, batch, cutoff, repeat):
    dimenet = DimeNet(hidden_channels=64, num_blocks=2, cutoff=cutoff, seed=0)
    schnet = SchNet(n_atom_basis=64, n_filters=64, n_interactions=2, n_rbf=20, cutoff=cutoff, seed=0)
    return (median_ms(lambda: dimenet.energy_and_forces(Z, pos, batch), repeat),
            median_ms(lambda: schnet.energy_and_forces(Z, pos, batch), repeat))


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()
    data = load_ethanol()
    Z = np.tile(data.z, 10)
    pos = data.R[:10].reshape(-1, 3)
    batch = np.repeat(np.arange(10), 9)
    ei = radius_graph(pos, 5.0, batch)
    n_trip = triplets(ei, pos.shape[0])[0].size
    t_d, t_s = passes(Z, pos, batch, 5.0, args.repeat)
    print(f"ethanol x 10, 5 A: {ei.shape[1]} edges, {n_trip} triplets; energy+forces: DimeNet {t_d:.1f} ms, "
          f"SchNet {t_s:.1f} ms ({t_d / t_s:.1f}x)")
    rng = np.random.default_rng(0)
    cloud = rng.uniform(0, (100 / 0.1) ** (1 / 3), size=(100, 3))
    Zc = np.full(100, 6)
    for rc in (2.5, 3.5, 4.5):
        ei = radius_graph(cloud, rc)
        n_trip = triplets(ei, 100)[0].size
        t_list = median_ms(lambda: triplets(ei, 100), args.repeat)
        t_d, t_s = passes(Zc, cloud, None, rc, max(1, args.repeat // 2))
        print(f"cloud, {rc} A: {ei.shape[1]} edges, {n_trip} triplets (T/E {n_trip / ei.shape[1]:.1f}); "
              f"listing {t_list:.2f} ms; DimeNet {t_d:.0f} ms, SchNet {t_s:.1f} ms ({t_d / t_s:.0f}x)")


if __name__ == "__main__":
    main()
