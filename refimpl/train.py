"""Training an interatomic potential on energies and forces (any model with the shared interface).

A model exposes ``params`` (a dict of float arrays, updated in place), ``energy_and_forces(Z, pos,
batch)`` and ``loss_and_grads(batch_data, w_energy, w_forces)``; a dataset is a
``refimpl.data.md17.Trajectory`` (``data.batch(idx)`` returns the dict the loss takes).
Learning-rate schedules and the progress line live in ``refimpl.training``.
"""
import numpy as np

from refimpl.core.optim import Adam
from refimpl.core.validate import as_index_array, check_number
from refimpl.training.progress import Progress
from refimpl.training.schedules import check_int, make_schedule

# The settings the book (chapter 8) and tools/train_schnet_ethanol.py use: a peak learning rate
# of 3e-2 with "cosine" = WarmupCosine(warmup=0.1, final=0.01), 10 % of the steps of linear warm-up
# then a cosine decay to 1 % (chosen on ethanol, see chapter 8).
DEFAULTS = {"batch_size": 10, "lr": 3e-2, "w_energy": 1.0, "w_forces": 10.0, "schedule": "cosine"}


def _errors(model, data, idx, batch_size):
    """(energy MAE, force MAE, energy MSE, force MSE) in eV, eV/A, eV^2, (eV/A)^2 over ``idx``."""
    err_E, err_F = [], []
    for start in range(0, idx.size, batch_size):
        b = data.batch(idx[start:start + batch_size])
        E, F = model.energy_and_forces(b["Z"], b["pos"], b["batch"])
        err_E.append(E - b["E"])
        err_F.append((F - b["F"]).ravel())
    e, f = np.concatenate(err_E), np.concatenate(err_F)
    return float(np.abs(e).mean()), float(np.abs(f).mean()), float(np.mean(e**2)), float(np.mean(f**2))


def evaluate(model, data, idx, batch_size=50):
    """Mean absolute errors on configurations ``idx``: (energy MAE in eV, force MAE in eV/A).

    The loop runs over batches of configurations, not over atoms or edges.
    """
    idx = as_index_array("idx", idx, size=len(data))
    if idx.size == 0:
        raise ValueError("idx: expected at least one configuration")
    return _errors(model, data, idx, check_int("batch_size", batch_size, low=1))[:2]


def _check_model(model):
    params = getattr(model, "params", None)
    if not isinstance(params, dict) or not callable(getattr(model, "loss_and_grads", None)) \
            or not callable(getattr(model, "energy_and_forces", None)):
        raise ValueError("model: expected an object with a params dict, loss_and_grads(batch_data, w_energy, "
                         f"w_forces) and energy_and_forces(Z, pos, batch), got {type(model).__name__}")


def _copy(params):
    return {k: v.copy() for k, v in params.items()}


def _assign(params, values):
    """Overwrite every array of ``params`` in place (the optimizer keeps references to them)."""
    for k, v in params.items():
        v[...] = values[k]


def _evaluate_with(model, ema, data, idx):
    """``_errors`` on ``idx`` with the EMA parameters swapped in (if ``ema`` is not None)."""
    if ema is None:
        return _errors(model, data, idx, 50)
    current = _copy(model.params)
    _assign(model.params, ema)
    try:
        return _errors(model, data, idx, 50)
    finally:
        _assign(model.params, current)


def train(model, data, train_idx, val_idx=None, n_steps=1000, batch_size=DEFAULTS["batch_size"],
          lr=DEFAULTS["lr"], w_energy=DEFAULTS["w_energy"], w_forces=DEFAULTS["w_forces"],
          schedule=DEFAULTS["schedule"], ema_decay=None, patience=None, keep_best=True, eval_every=100, seed=0,
          progress=True, log=None):
    """Minimize the energy + force loss with Adam on random mini-batches of ``train_idx``.

    L = w_E mean (E - E_ref)^2 + w_F mean (F - F_ref)^2 per batch (eV^2 and (eV/A)^2).
    Batches come from ``np.random.default_rng(seed)`` (reshuffled each epoch).

    schedule: the learning rate of step t is lr * schedule(t, n_steps) (``refimpl.training.schedules``:
        None = constant, a name "cosine" (the default: 10 % warm-up, cosine decay to 1 %),
        "exponential", "plateau", "step", an object such as ``WarmupCosine(warmup=100)`` or
        ``ReduceOnPlateau(patience=3)``, any f(t, n_steps), or a list whose factors multiply).
        After every evaluation ``schedule.observe(val_loss)`` is called on the schedules that have
        it (the validation loss, or without ``val_idx`` the mean training loss since the last evaluation).
    ema_decay: None, or d in [0, 1): evaluate (and return) the moving average of the parameters,
        ema <- d ema + (1 - d) params after every step, starting from the initial parameters.
    eval_every: steps between evaluations on ``val_idx`` (and the last step): validation loss
        (L on all of ``val_idx``) and MAEs; ``log``, if given, gets one line per evaluation.
    keep_best: at the end the model holds the evaluated parameters with the lowest validation
        loss (needs ``val_idx``); otherwise the last ones (the EMA ones if ``ema_decay``).
    patience: None, or stop early once more than ``patience`` evaluations in a row have brought no
        lower validation loss (needs ``val_idx``; the counting of ``ReduceOnPlateau``).
    progress: show one updating line (steps/s, loss, time left; ``refimpl.training.Progress``).

    Returns the history, a dict: lists 'step', 'loss' (mean training loss since the previous
    evaluation), 'val_loss', 'val_E_mae' (eV), 'val_F_mae' (eV/A), 'lr' (at that step), and
    'best_step' (the step whose parameters the model holds if keep_best, else None) and
    'last_step' (n_steps, or where early stopping stopped).
    """
    _check_model(model)
    if not callable(getattr(data, "batch", None)):
        raise ValueError(f"data: expected a Trajectory (with batch(idx) and len()), got {type(data).__name__}")
    train_idx = as_index_array("train_idx", train_idx, size=len(data))
    if train_idx.size == 0:
        raise ValueError("train_idx: expected at least one configuration")
    if val_idx is not None:
        val_idx = as_index_array("val_idx", val_idx, size=len(data))
        if val_idx.size == 0:
            raise ValueError("val_idx: expected at least one configuration, or None")
    n_steps, batch_size = check_int("n_steps", n_steps, low=1), check_int("batch_size", batch_size, low=1)
    eval_every, seed = check_int("eval_every", eval_every, low=1), check_int("seed", seed)
    lr = check_number("lr", lr, low=0.0, low_inclusive=False)
    w_energy, w_forces = check_number("w_energy", w_energy, low=0.0), check_number("w_forces", w_forces, low=0.0)
    if w_energy == 0 and w_forces == 0:
        raise ValueError("w_energy and w_forces: expected at least one > 0")
    if ema_decay is not None and not 0 <= check_number("ema_decay", ema_decay) < 1:
        raise ValueError(f"ema_decay: expected None or a number in [0, 1), got {ema_decay!r}")
    if patience is not None:
        check_int("patience", patience)
    for name, flag in (("keep_best", keep_best), ("progress", progress)):
        if not isinstance(flag, (bool, np.bool_)):
            raise ValueError(f"{name}: expected True or False, got {flag!r}")
    if val_idx is None and patience is not None:
        raise ValueError("patience: early stopping needs val_idx")
    if log is not None and not callable(log):
        raise ValueError(f"log: expected None or a function of one string, got {type(log).__name__}")
    schedules = make_schedule(schedule)

    rng = np.random.default_rng(seed)
    params = model.params
    opt = Adam(params, lr=lr)
    ema = _copy(params) if ema_decay is not None else None
    history = {"step": [], "loss": [], "val_loss": [], "val_E_mae": [], "val_F_mae": [], "lr": [],
               "best_step": None, "last_step": n_steps}
    best, best_loss, bad, val_text = None, np.inf, 0, {}
    bar = Progress(n_steps, enabled=bool(progress))
    order, pos, running = rng.permutation(train_idx), 0, []
    for step in range(1, n_steps + 1):
        opt.lr = lr * float(np.prod([s(step, n_steps) for s in schedules]))
        if pos + batch_size > order.size:
            order, pos = rng.permutation(train_idx), 0
        loss, grads = model.loss_and_grads(data.batch(order[pos:pos + batch_size]), w_energy, w_forces)
        pos += batch_size
        opt.step(grads)
        if ema is not None:
            for k, p in params.items():
                ema[k] *= ema_decay
                ema[k] += (1.0 - ema_decay) * p
        running.append(loss)
        shown = {"loss": f"{np.mean(running):.4g}", "lr": f"{opt.lr:.1e}"}
        evaluating = step % eval_every == 0 or step == n_steps
        if evaluating:
            mean_loss, val, monitored = float(np.mean(running)), (np.nan,) * 4, float(np.mean(running))
            if val_idx is not None:
                val = _evaluate_with(model, ema, data, val_idx)
                monitored = w_energy * val[2] + w_forces * val[3]
                if monitored < best_loss:
                    best, best_loss, bad = _copy(ema if ema is not None else params), monitored, 0
                    history["best_step"] = step
                else:
                    bad += 1
                val_text = {"val": f"E {1e3 * val[0]:.1f} meV, F {1e3 * val[1]:.1f} meV/A"}
            for s in schedules:
                getattr(s, "observe", lambda v: None)(monitored)
            row = (step, mean_loss, monitored if val_idx is not None else np.nan, val[0], val[1], opt.lr)
            for key, value in zip(("step", "loss", "val_loss", "val_E_mae", "val_F_mae", "lr"), row):
                history[key].append(value)
            if log is not None:
                line = (f"step {step:5d}  loss {mean_loss:.5f}  val E MAE {1e3 * val[0]:7.1f} meV  "
                        f"F MAE {1e3 * val[1]:7.1f} meV/A  lr {opt.lr:.2e}")
                (bar.write if log is print else log)(line)
            running = []
        stop = evaluating and patience is not None and bad > patience
        bar.update(step, force=evaluating, **shown, **val_text)
        if stop:
            history["last_step"] = step
            break
    bar.close()
    if keep_best and best is not None:
        _assign(params, best)
    else:
        history["best_step"] = None
        if ema is not None:
            _assign(params, ema)
    return history
