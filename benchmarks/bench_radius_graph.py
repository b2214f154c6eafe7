"""Time radius_graph (k-d tree) against radius_graph_naive (all N^2 pairs).

Random points fill a cube at a fixed density, so every atom has about the same number of
neighbours (rho * 4/3 pi r_c^3 ~ 42 for the defaults, fewer near the faces of the cube).
The tree should grow like N log N, the naive version like N^2.

    python benchmarks/bench_radius_graph.py                 # N = 1e3 ... 1e6 (needs ~3 GB RAM)
    python benchmarks/bench_radius_graph.py --max-n 30000   # a quick run
"""
import argparse
import time

import numpy as np

from refimpl.geometry.radius import radius_graph, radius_graph_naive


def best_time(fn, repeats):
    """Smallest wall time of ``repeats`` calls, and the last result."""
    best, out = np.inf, None
    for _ in range(repeats):
        start = time.perf_counter()
        out = fn()
        best = min(best, time.perf_counter() - start)
    return best, out


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--max-n", type=float, default=1e6, help="largest number of points")
    parser.add_argument("--naive-max-n", type=float, default=1e4, help="largest N for the O(N^2) version")
    parser.add_argument("--density", type=float, default=0.08, help="atoms per cubic Angstrom")
    parser.add_argument("--cutoff", type=float, default=5.0, help="Angstrom")
    parser.add_argument("--repeats", type=int, default=1)
    parser.add_argument("--seed", type=int, default=0)
    args = parser.parse_args()

    rng = np.random.default_rng(args.seed)
    sizes = [n for n in (1_000, 3_000, 10_000, 30_000, 100_000, 300_000, 1_000_000) if n <= args.max_n]
    print(f"density {args.density} /A^3, cutoff {args.cutoff} A, "
          f"expected neighbours in the bulk {args.density * 4 / 3 * np.pi * args.cutoff**3:.1f}")
    print(f"{'N':>9} {'E':>11} {'E/N':>6} {'tree [s]':>10} {'naive [s]':>10} {'speed-up':>9}")
    for n in sizes:
        side = (n / args.density) ** (1 / 3)
        pos = rng.uniform(0.0, side, size=(n, 3))
        t_tree, ei = best_time(lambda: radius_graph(pos, args.cutoff), args.repeats)
        naive = "-"
        speedup = "-"
        if n <= args.naive_max_n:
            t_naive, ei_naive = best_time(lambda: radius_graph_naive(pos, args.cutoff), args.repeats)
            assert np.array_equal(ei, ei_naive), "tree and naive disagree"
            naive, speedup = f"{t_naive:.3f}", f"{t_naive / t_tree:.0f}x"
        print(f"{n:>9} {ei.shape[1]:>11} {ei.shape[1] / n:>6.1f} {t_tree:>10.3f} {naive:>10} {speedup:>9}",
              flush=True)
        del ei


if __name__ == "__main__":
    main()
