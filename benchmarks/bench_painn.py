"""Time one PaiNN training step: forward, forces, energy+force loss and its gradient, Adam update.

Batch of 10 ethanol configurations from the shipped DFT set (90 atoms, 720 edges with the 5 A cutoff,
360 atom pairs whose distances, directions and filters are computed once for both edges), 64 features,
3 interactions, 20 sine radial functions. A step costs three forward and three backward passes
(``Model.loss_and_grads``: forces by the backward pass, the force term of the parameter gradient a
Hessian-vector product by central differences).

With ``--torch`` (PyTorch and schnetpack installed; neither is a requirement of the course) the same
step of schnetpack's PaiNN (same sizes, same batches, float32 and float64, autograd forces with
``create_graph``, Adam) is timed in the same run, interleaved with ours, one thread each:

    python benchmarks/bench_painn.py              # refimpl only
    python benchmarks/bench_painn.py --torch      # plus schnetpack's PaiNN (skipped with a message if absent)
    python benchmarks/bench_painn.py --profile    # plus the top functions by own time (cProfile)
"""
import argparse
import cProfile
import io
import pstats
import time

import numpy as np

from refimpl.core.optim import Adam
from refimpl.data.md17 import load_ethanol
from refimpl.models.base import fit_atomref
from refimpl.models.painn import PaiNN


def refimpl_step(model, opt):
    def step(batch):
        loss, grads = model.loss_and_grads(batch, 1.0, 100.0)
        opt.step(grads)
        return loss
    return step


def schnetpack_step(args, batches, dtype):
    """A training step of schnetpack's PaiNN on the same batches, or None (with a message) without torch."""
    try:
        import typing

        import torch
        import torch.utils.data.dataloader as dataloader
        if not hasattr(dataloader, "T_co"):        # schnetpack 2.0.4 imports a name newer torch dropped
            dataloader.T_co = typing.TypeVar("T_co", covariant=True)
        import schnetpack as spk
        from schnetpack import properties
    except ImportError as err:
        print(f"schnetpack reference skipped: {err} (pip install torch schnetpack in a separate venv)")
        return None
    torch.set_num_threads(1)
    rep = spk.representation.PaiNN(n_atom_basis=args.features, n_interactions=args.interactions,
                                   radial_basis=spk.nn.BesselRBF(n_rbf=20, cutoff=5.0),
                                   cutoff_fn=spk.nn.CosineCutoff(5.0))
    model = spk.model.NeuralNetworkPotential(
        representation=rep, input_modules=[spk.atomistic.PairwiseDistances()],
        output_modules=[spk.atomistic.Atomwise(n_in=args.features, output_key="energy"),
                        spk.atomistic.Forces(energy_key="energy", force_key="forces")]).to(dtype)
    opt = torch.optim.Adam(model.parameters(), lr=1e-4)

    def inputs(b):
        n_graphs, n_atoms = len(b["E"]), len(b["Z"])
        ei = _full_graph(b["batch"])
        return {properties.Z: torch.as_tensor(b["Z"]), properties.R: torch.as_tensor(b["pos"], dtype=dtype),
                properties.idx_m: torch.as_tensor(b["batch"]), properties.idx_j: torch.as_tensor(ei[0]),
                properties.idx_i: torch.as_tensor(ei[1]), properties.offsets: torch.zeros(ei.shape[1], 3, dtype=dtype),
                properties.n_atoms: torch.full((n_graphs,), n_atoms // n_graphs),
                "E": torch.as_tensor(b["E"], dtype=dtype), "F": torch.as_tensor(b["F"], dtype=dtype)}

    prepared = [inputs(b) for b in batches]

    def step(k):
        x = dict(prepared[k])
        E_ref, F_ref = x.pop("E"), x.pop("F")
        out = model(x)
        loss = ((out["energy"] - E_ref) ** 2).mean() + 100.0 * ((out["forces"] - F_ref) ** 2).mean()
        opt.zero_grad()
        loss.backward()
        opt.step()
    return step


def _full_graph(batch):
    """Every ordered pair within a molecule (ethanol is smaller than the 5 A cutoff), (2, E)."""
    same = batch[:, None] == batch[None, :]
    np.fill_diagonal(same, False)
    i, j = np.nonzero(same)
    return np.stack([j, i])


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--batch", type=int, default=10)
    parser.add_argument("--features", type=int, default=64)
    parser.add_argument("--interactions", type=int, default=3)
    parser.add_argument("--steps", type=int, default=30)
    parser.add_argument("--torch", action="store_true")
    parser.add_argument("--profile", action="store_true")
    args = parser.parse_args()

    data = load_ethanol()
    model = PaiNN(n_atom_basis=args.features, n_interactions=args.interactions, n_rbf=20, cutoff=5.0, seed=0)
    b = data.batch(np.arange(args.batch))
    fit_atomref(model, b["Z"], b["E"], b["batch"])
    rng = np.random.default_rng(0)
    batches = [data.batch(rng.choice(len(data), args.batch, replace=False)) for _ in range(args.steps)]
    assert _full_graph(batches[0]["batch"]).shape == model.graph(batches[0]["pos"], batches[0]["batch"]).shape
    steps = {"refimpl (float64)": lambda k, f=refimpl_step(model, Adam(model.params, lr=1e-4)): f(batches[k])}
    if args.torch:
        import importlib.util
        if importlib.util.find_spec("torch"):
            import torch
            for name, dtype in [("schnetpack float32", torch.float32), ("schnetpack float64", torch.float64)]:
                step = schnetpack_step(args, batches, dtype)
                if step is not None:
                    steps[name] = step
        else:
            print("schnetpack reference skipped: PyTorch is not installed")
    times = {name: [] for name in steps}
    for name, step in steps.items():
        step(0)                                        # warm-up
    for k in range(args.steps):                        # interleaved: every implementation sees the same load
        for name, step in steps.items():
            start = time.perf_counter()
            step(k)
            times[name].append(time.perf_counter() - start)
    n_params = sum(v.size for v in model.params.values())
    print(f"PaiNN F={args.features}, T={args.interactions}, batch {args.batch} x {data.z.size} atoms, "
          f"{n_params} parameters (refimpl)")
    for name, t in times.items():
        t = np.array(t) * 1e3
        print(f"{name:20s} training step (E+F loss, gradient, Adam): median {np.median(t):.1f} ms, "
              f"min {t.min():.1f} ms over {args.steps} steps")
    if len(times) > 1:
        ours = np.median(times["refimpl (float64)"])
        for name in list(times)[1:]:
            print(f"ratio refimpl / {name}: {ours / np.median(times[name]):.2f}")
    start = time.perf_counter()
    for batch in batches[:10]:
        model.energy_and_forces(batch["Z"], batch["pos"], batch["batch"])
    print(f"energy_and_forces alone: {(time.perf_counter() - start) * 100:.1f} ms per batch")

    if args.profile:
        prof = cProfile.Profile()
        prof.enable()
        for k in range(10):
            steps["refimpl (float64)"](k)
        prof.disable()
        out = io.StringIO()
        pstats.Stats(prof, stream=out).sort_stats("tottime").print_stats(12)
        print(out.getvalue())


if __name__ == "__main__":
    main()
