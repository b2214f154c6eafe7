"""Training an interatomic potential on energies and forces (any model with the shared interface).

A model exposes ``params``, ``energy_and_forces(Z, pos, batch)`` and
``loss_and_grads(batch_data, w_energy, w_forces)``; a dataset is a ``refimpl.data.md17.Trajectory``
(``data.batch(idx)`` returns the dict the loss takes).
"""
import numpy as np

from refimpl.core.optim import Adam
from refimpl.core.validate import as_index_array, check_positive_int


def evaluate(model, data, idx, batch_size=50):
    """Mean absolute errors on configurations ``idx``: (energy MAE in eV, force MAE in eV/A).

    The loop runs over batches of configurations, not over atoms or edges.
    """
    idx = as_index_array("idx", idx, size=len(data))
    if idx.size == 0:
        raise ValueError("idx: expected at least one configuration")
    err_E, err_F = [], []
    for start in range(0, idx.size, check_positive_int("batch_size", batch_size)):
        b = data.batch(idx[start:start + batch_size])
        E, F = model.energy_and_forces(b["Z"], b["pos"], b["batch"])
        err_E.append(np.abs(E - b["E"]))
        err_F.append(np.abs(F - b["F"]).ravel())
    return float(np.concatenate(err_E).mean()), float(np.concatenate(err_F).mean())


def train(model, data, train_idx, val_idx=None, n_steps=1000, batch_size=10, lr=5e-4,
          w_energy=1.0, w_forces=100.0, seed=0, print_every=100, log=print):
    """Minimize the energy + force loss with Adam on random mini-batches of ``train_idx``.

    L = w_E mean (E - E_ref)^2 + w_F mean (F - F_ref)^2 per batch; every ``print_every``
    steps one line goes to ``log`` (training loss, validation MAEs in meV and meV/A).
    Batches come from ``np.random.default_rng(seed)`` (reshuffled each epoch).
    Returns the history: a dict of lists 'step', 'loss', 'val_E_mae', 'val_F_mae'.
    """
    train_idx = as_index_array("train_idx", train_idx, size=len(data))
    if train_idx.size == 0:
        raise ValueError("train_idx: expected at least one configuration")
    n_steps, batch_size = check_positive_int("n_steps", n_steps), check_positive_int("batch_size", batch_size)
    rng = np.random.default_rng(seed)
    opt = Adam(model.params, lr=lr)
    history = {"step": [], "loss": [], "val_E_mae": [], "val_F_mae": []}
    order, pos, running = rng.permutation(train_idx), 0, []
    for step in range(1, n_steps + 1):
        if pos + batch_size > order.size:
            order, pos = rng.permutation(train_idx), 0
        loss, grads = model.loss_and_grads(data.batch(order[pos:pos + batch_size]), w_energy, w_forces)
        pos += batch_size
        opt.step(grads)
        running.append(loss)
        if step % print_every == 0 or step == n_steps:
            e_mae, f_mae = evaluate(model, data, val_idx) if val_idx is not None else (np.nan, np.nan)
            history["step"].append(step)
            history["loss"].append(float(np.mean(running)))
            history["val_E_mae"].append(e_mae)
            history["val_F_mae"].append(f_mae)
            log(f"step {step:5d}  loss {np.mean(running):.5f}  val E MAE {1e3 * e_mae:7.1f} meV  "
                f"F MAE {1e3 * f_mae:7.1f} meV/A")
            running = []
    return history
