"""refimpl.train.train: learning-rate schedules, plateau reduction, parameter EMA, early stopping with
the best parameters restored, reproducibility, and the progress line (terminal and notebook)."""
import io
import math
import re

import numpy as np
import pytest

from refimpl.data.md17 import Trajectory
from refimpl.models.schnet import SchNet
from refimpl.train import DEFAULTS, evaluate, train
from refimpl.training import progress as progress_mod
from refimpl.training.progress import Progress, format_line
from refimpl.training.schedules import (Constant, ExponentialDecay, ReduceOnPlateau, StepDrop, WarmupCosine,
                                        make_schedule)


# ----------------------------------------------------------------------------- a model with known dynamics
class ConstantPull:
    """A one-parameter 'model': every graph's energy is w, forces are zero; the gradient is always -1.

    Adam with a constant gradient moves w by lr / (1 + eps) per step, so w_t is known in closed form.
    """

    def __init__(self):
        self.params = {"w": np.zeros(1)}

    def energy_and_forces(self, Z, pos, batch=None):
        G = int(batch[-1]) + 1 if batch is not None else 1
        return np.full(G, self.params["w"][0]), np.zeros_like(pos)

    def loss_and_grads(self, batch_data, w_energy, w_forces):
        return float(w_energy * np.mean((self.params["w"][0] - batch_data["E"]) ** 2)), {"w": -np.ones(1)}


def _constant_data(n=6, target=1.0):
    """n configurations of a diatomic whose energy is ``target`` eV and forces zero."""
    R = np.tile([[0.0, 0.0, 0.0], [1.0, 0.0, 0.0]], (n, 1, 1))
    return Trajectory(z=np.array([1, 1]), R=R, E=np.full(n, target), F=np.zeros((n, 2, 3)))


ADAM_STEP = 1.0 / (1.0 + 1e-8)      # |update| / lr for a constant gradient of size 1


# ----------------------------------------------------------------------------- schedules
def test_constant_with_warmup():
    f = Constant(warmup=4)
    assert [f(t, 10) for t in range(1, 8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]
    g = Constant(warmup=0.4)                       # a fraction of the run: 4 of 10 steps
    assert [g(t, 10) for t in range(1, 8)] == [0.25, 0.5, 0.75, 1.0, 1.0, 1.0, 1.0]


def test_default_schedule_warms_up_over_a_tenth_of_the_run():
    f = make_schedule("cosine")[0]
    assert f(50, 1000) == 0.5 and f(100, 1000) == 1.0 and f(1000, 1000) == pytest.approx(0.01, abs=1e-15)
    assert f(550, 1000) == pytest.approx(0.01 + 0.99 * 0.5, abs=1e-15)


def test_warmup_cosine_sequence():
    f, n, w = WarmupCosine(warmup=10, final=0.1), 110, 10
    assert [f(t, n) for t in (1, 5, 10)] == pytest.approx([0.1, 0.5, 1.0], abs=1e-15)
    assert f(60, n) == pytest.approx(0.1 + 0.9 * 0.5, abs=1e-15)          # half-way through the decay
    assert f(n, n) == pytest.approx(0.1, abs=1e-15)
    decay = [f(t, n) for t in range(w, n + 1)]
    assert all(a > b for a, b in zip(decay, decay[1:]))                      # strictly decreasing
    x = (35 - w) / (n - w)
    assert f(35, n) == pytest.approx(0.1 + 0.9 * (1 + math.cos(math.pi * x)) / 2, rel=1e-14)


def test_exponential_decay_sequence():
    f, n = ExponentialDecay(warmup=0, final=0.01), 100
    seq = np.array([f(t, n) for t in range(1, n + 1)])
    assert seq[-1] == pytest.approx(0.01, rel=1e-12)
    assert np.allclose(seq[1:] / seq[:-1], 0.01 ** (1 / n), rtol=1e-12)    # a constant ratio per step
    assert ExponentialDecay(warmup=20)(10, 100) == 0.5


def test_step_drop_sequence():
    f = StepDrop(at=0.8, factor=0.1)
    assert [f(t, 10) for t in range(1, 11)] == [1.0] * 8 + [0.1] * 2


def test_plateau_reduces_after_patience_evaluations_without_improvement():
    f = ReduceOnPlateau(factor=0.5, patience=2, threshold=1e-3)
    for loss in (1.0, 0.9, 0.95, 0.8995, 0.95):   # 0.8995 is not 0.1 % below 0.9: no improvement
        f.observe(loss)
    assert f.reductions == [5] and f(1, 10) == 0.5
    f.observe(0.5)                                  # an improvement resets the count
    f.observe(0.6)
    f.observe(0.6)
    assert f.reductions == [5] and f(1, 10) == 0.5
    f.observe(0.6)
    assert f.reductions == [5, 9] and f(1, 10) == 0.25


def test_plateau_never_goes_below_min_factor():
    f = ReduceOnPlateau(factor=0.1, patience=0, min_factor=0.05)
    for _ in range(5):
        f.observe(1.0)
    assert f(1, 1) == 0.05 and len(f.reductions) == 2


def test_train_follows_the_schedule_and_lists_multiply():
    model, data = ConstantPull(), _constant_data()
    h = train(model, data, [0, 1], None, n_steps=20, batch_size=1, lr=1e-2, eval_every=1, progress=False,
              schedule=[WarmupCosine(warmup=5, final=0.0), StepDrop(at=0.5, factor=0.5)])
    expected = [1e-2 * WarmupCosine(5, 0.0)(t, 20) * StepDrop(0.5, 0.5)(t, 20) for t in range(1, 21)]
    assert h["lr"] == pytest.approx(expected, rel=1e-14)
    # w moved by the sum of the learning rates (Adam with a constant gradient)
    assert model.params["w"][0] == pytest.approx(sum(expected) * ADAM_STEP, rel=1e-12)


def test_train_reduces_on_a_validation_plateau():
    """Validation loss (w - 1)^2 falls while w < 1, then grows: the plateau schedule must halve the rate
    after ``patience`` + 1 evaluations without improvement, and keep the caller's object untouched."""
    model, data = ConstantPull(), _constant_data()
    plateau = ReduceOnPlateau(factor=0.5, patience=1)
    h = train(model, data, [0, 1], [2, 3], n_steps=16, batch_size=1, lr=0.1, eval_every=1, progress=False,
              schedule=plateau, keep_best=False)
    assert np.argmin(h["val_loss"]) == 9                    # step 10: w = 1
    # evaluations 11, 12 are worse; the drop applies from step 13 on (lr recorded after the step)
    assert h["lr"][:12] == [0.1] * 12 and h["lr"][12] == pytest.approx(0.05)
    assert plateau.reductions == [] and plateau.scale == 1.0


def test_schedule_names():
    assert [type(s).__name__ for s in make_schedule(["cosine", "plateau", None])] == \
        ["WarmupCosine", "ReduceOnPlateau", "Constant"]


# ----------------------------------------------------------------------------- EMA and early stopping
def test_ema_is_the_exponential_moving_average_of_the_iterates():
    d, T, lr = 0.9, 12, 0.05
    model, data = ConstantPull(), _constant_data()
    train(model, data, [0, 1], [2], n_steps=T, batch_size=1, lr=lr, schedule=None, ema_decay=d, keep_best=False,
          eval_every=5, progress=False)
    w = lr * ADAM_STEP * np.arange(T + 1)                   # w_0 = 0, ..., w_T
    expected = d ** T * w[0] + (1 - d) * sum(d ** (T - t) * w[t] for t in range(1, T + 1))
    assert model.params["w"][0] == pytest.approx(expected, rel=1e-12)


def test_ema_parameters_are_evaluated_and_training_continues_from_the_raw_ones():
    d, lr = 0.5, 0.1
    model, data = ConstantPull(), _constant_data(target=0.0)
    h = train(model, data, [0, 1], [2], n_steps=4, batch_size=1, lr=lr, schedule=None, ema_decay=d,
              keep_best=False, eval_every=2, progress=False)
    w = lr * ADAM_STEP * np.arange(5)
    ema2 = (1 - d) * (d * w[1] + w[2])                      # the EMA after two steps
    assert h["val_E_mae"][0] == pytest.approx(ema2, rel=1e-12)
    ema4 = d ** 2 * ema2 + (1 - d) * (d * w[3] + w[4])       # raw w kept moving under the EMA evaluation
    assert model.params["w"][0] == pytest.approx(ema4, rel=1e-12)


def test_early_stopping_restores_the_best_parameters():
    """w passes the target 1 at step 10; with patience 3 training stops at step 14 and returns w_10."""
    model, data = ConstantPull(), _constant_data()
    h = train(model, data, [0, 1], [2, 3], n_steps=100, batch_size=1, lr=0.1, schedule=None, eval_every=1,
              patience=3, progress=False)
    assert h["best_step"] == 10 and h["last_step"] == 14 and h["step"] == list(range(1, 15))
    assert model.params["w"][0] == pytest.approx(10 * 0.1 * ADAM_STEP, rel=1e-12)
    model2 = ConstantPull()
    train(model2, data, [0, 1], [2, 3], n_steps=14, batch_size=1, lr=0.1, schedule=None, eval_every=1,
          keep_best=False, progress=False)
    assert model2.params["w"][0] == pytest.approx(14 * 0.1 * ADAM_STEP, rel=1e-12)


def test_defaults_are_the_ones_the_book_and_the_tool_use():
    import inspect
    sig = inspect.signature(train).parameters
    assert {k: sig[k].default for k in DEFAULTS} == DEFAULTS == \
        {"batch_size": 10, "lr": 3e-2, "w_energy": 1.0, "w_forces": 10.0, "schedule": "cosine"}


# ----------------------------------------------------------------------------- a real model, seeded
def _morse_like(rng, n=16):
    R = np.array([[0.0, 0.0, 0.0], [1.1, 0.0, 0.0], [0.0, 1.0, 0.1]]) + rng.normal(scale=0.05, size=(n, 3, 3))
    d = np.linalg.norm(R[:, :, None] - R[:, None], axis=-1) + np.eye(3)
    E = 0.5 * ((1 - np.exp(-(d - 1.1))) ** 2 * (1 - np.eye(3))).sum(axis=(1, 2))
    return Trajectory(z=np.array([8, 1, 1]), R=R, E=E, F=rng.normal(scale=0.1, size=(n, 3, 3)))


def _schnet_run(seed):
    data = _morse_like(np.random.default_rng(1))
    m = SchNet(n_atom_basis=8, n_filters=8, n_interactions=1, n_rbf=6, cutoff=4.0, max_z=9, seed=0)
    h = train(m, data, np.arange(12), np.arange(12, 16), n_steps=8, batch_size=4, lr=1e-2, seed=seed,
              schedule=["cosine", "plateau"], ema_decay=0.8, eval_every=2, progress=False)
    return m.params, h


def test_training_is_reproducible_with_a_seed():
    (p1, h1), (p2, h2), (p3, h3) = _schnet_run(3), _schnet_run(3), _schnet_run(4)
    assert all(np.array_equal(p1[k], p2[k]) for k in p1) and h1 == h2
    assert not all(np.array_equal(p1[k], p3[k]) for k in p1) and h1["loss"] != h3["loss"]
    assert h1["step"] == [2, 4, 6, 8] and np.isfinite(h1["val_loss"]).all()


def test_validation_loss_is_the_training_loss_on_the_validation_set():
    data = _morse_like(np.random.default_rng(2))
    m = SchNet(n_atom_basis=8, n_filters=8, n_interactions=1, n_rbf=6, cutoff=4.0, max_z=9, seed=0)
    h = train(m, data, np.arange(12), np.arange(12, 16), n_steps=2, batch_size=4, eval_every=2, progress=False)
    loss, _ = m.loss_and_grads(data.batch(np.arange(12, 16)), DEFAULTS["w_energy"], DEFAULTS["w_forces"])
    assert h["val_loss"][0] == pytest.approx(loss, rel=1e-10)
    assert (h["val_E_mae"][0], h["val_F_mae"][0]) == pytest.approx(evaluate(m, data, np.arange(12, 16)), rel=1e-12)


# ----------------------------------------------------------------------------- the progress line
LINE = re.compile(r"step +(\d+)/(\d+) \[([#-]{20})\] +(\d+)% \| ([\d.]+) steps/s \| (\d+) s, (\d+) s left")


def test_format_line():
    line = format_line(150, 600, 10.0, {"loss": "0.1"})
    assert line == "step 150/600 [#####---------------]  25% | 15.0 steps/s | 10 s, 30 s left | loss 0.1"


def test_progress_redraws_one_line_in_a_terminal():
    out, clock = io.StringIO(), iter(np.arange(0.0, 100.0, 0.1))
    bar = Progress(50, stream=out, min_interval=1.0, clock=lambda: next(clock))
    for step in range(1, 51):
        bar.update(step, loss="1")
    bar.close()
    text = out.getvalue()
    assert text.endswith("\n") and text.count("\n") == 1 and text.startswith("\r")
    frames = text.rstrip("\n").split("\r")[1:]
    assert 5 <= len(frames) <= 8                             # 5 s of fake time, a redraw per second
    last = LINE.match(frames[-1])
    assert last and last.group(1) == "50" and last.group(4) == "100" and frames[-1].rstrip().endswith("loss 1")


def test_train_shows_one_updating_line_and_log_lines_above_it(capsys):
    model, data = ConstantPull(), _constant_data()
    train(model, data, [0, 1], [2], n_steps=30, batch_size=1, lr=0.01, schedule=None, eval_every=10, log=print)
    out = capsys.readouterr().out
    visible = [ln.split("\r")[-1].rstrip() for ln in out.split("\n")]    # what a terminal shows
    assert [ln[:10] for ln in visible[:3]] == ["step    10", "step    20", "step    30"]   # the log lines
    assert LINE.match(visible[3]) and visible[3].startswith("step 30/30") and visible[4] == ""
    assert "val E 700.0 meV" in visible[3] and "lr 1.0e-02" in visible[3]
    train(model, data, [0, 1], [2], n_steps=30, batch_size=1, progress=False)
    assert capsys.readouterr().out == ""


def test_progress_updates_a_display_handle_in_a_notebook(monkeypatch):
    shown = []

    class Handle:
        def update(self, obj, raw):
            shown.append(obj["text/plain"])

    import IPython.display
    monkeypatch.setattr(progress_mod, "_in_notebook", lambda: True)
    monkeypatch.setattr(IPython.display, "display", lambda obj, raw, display_id: Handle())
    model, data = ConstantPull(), _constant_data()
    train(model, data, [0, 1], None, n_steps=5, batch_size=1)
    assert LINE.match(shown[-1]) and shown[-1].startswith("step 5/5")
