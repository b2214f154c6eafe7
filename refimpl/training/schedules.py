"""Learning-rate schedules for ``refimpl.train.train``.

A schedule gives the learning rate of every step as a *factor* of the peak rate ``lr``:

    lr_t = lr * schedule(t, n_steps),      t = 1, ..., n_steps

Any function ``f(t, n_steps) -> float`` is a schedule. The classes below are the usual ones;
``ReduceOnPlateau`` also has ``observe(val_loss)``, which ``train`` calls after every evaluation
of the validation loss (any schedule may define it). A list of schedules multiplies their factors,
e.g. ``[WarmupCosine(warmup=100), ReduceOnPlateau()]``. ``make_schedule`` turns a name
("constant", "cosine", "exponential", "plateau", "step") into the default object of that kind.
"""
import copy
import math

import numpy as np

from refimpl.core.validate import check_number


def check_int(name, value, low=0):
    """Return ``value`` as an int, raising unless it is an integer >= ``low`` (booleans rejected)."""
    if isinstance(value, (bool, np.bool_)) or not isinstance(value, (int, np.integer)) or value < low:
        raise ValueError(f"{name}: expected an integer >= {low}, got {value!r}")
    return int(value)


def _fraction(name, value, low_inclusive=True):
    value = check_number(name, value, low=0.0, low_inclusive=low_inclusive)
    if value > 1:
        raise ValueError(f"{name}: expected a number in [0, 1], got {value!r}")
    return value


def _check_warmup(warmup):
    """warmup: a number of steps (int >= 0) or a fraction of the run (float in [0, 1))."""
    if isinstance(warmup, (float, np.floating)):
        if not 0 <= warmup < 1:
            raise ValueError(f"warmup: expected a number of steps (int >= 0) or a fraction in [0, 1), got {warmup!r}")
        return float(warmup)
    return check_int("warmup", warmup)


def _warmup_steps(warmup, n_steps):
    return int(round(warmup * n_steps)) if isinstance(warmup, float) else warmup


def _warmup(t, w):
    """Linear warm-up factor t / w for the first w steps, 1 after."""
    return min(1.0, t / w) if w else 1.0


class Constant:
    """factor 1 (after an optional linear warm-up over ``warmup`` steps, or that fraction of the run)."""

    def __init__(self, warmup=0):
        self.warmup = _check_warmup(warmup)

    def __call__(self, t, n_steps):
        return _warmup(t, _warmup_steps(self.warmup, n_steps))


class WarmupCosine:
    """Linear warm-up, then cosine decay from 1 to ``final`` at the last step.

    factor(t) = t / w for t <= w; then final + (1 - final) (1 + cos(pi (t - w) / (n - w))) / 2.
    warmup: w steps (int >= 0) or a fraction of the n steps (float in [0, 1)); final: the last
    factor, in [0, 1]. The default is the schedule ``train`` uses unless told otherwise.
    """

    def __init__(self, warmup=0.1, final=0.01):
        self.warmup, self.final = _check_warmup(warmup), _fraction("final", final)

    def __call__(self, t, n_steps):
        w = _warmup_steps(self.warmup, n_steps)
        if t <= w:
            return _warmup(t, w)
        x = (t - w) / max(n_steps - w, 1)
        return self.final + (1.0 - self.final) * 0.5 * (1.0 + math.cos(math.pi * min(x, 1.0)))


class ExponentialDecay:
    """Linear warm-up, then factor(t) = final ** ((t - w) / (n - w)): from 1 down to ``final``.

    warmup: w steps (int >= 0) or a fraction of the n steps (float in [0, 1)); final: the factor
    at the last step, in (0, 1].
    """

    def __init__(self, warmup=0.1, final=0.01):
        self.warmup = _check_warmup(warmup)
        self.final = _fraction("final", final, low_inclusive=False)

    def __call__(self, t, n_steps):
        w = _warmup_steps(self.warmup, n_steps)
        if t <= w:
            return _warmup(t, w)
        return self.final ** (min(t - w, n_steps - w) / max(n_steps - w, 1))


class StepDrop:
    """factor 1 up to a fraction ``at`` of the steps, ``factor`` after (the old two-phase recipe)."""

    def __init__(self, at=0.8, factor=0.1):
        self.at, self.factor = _fraction("at", at), _fraction("factor", factor, low_inclusive=False)

    def __call__(self, t, n_steps):
        return 1.0 if t <= self.at * n_steps else self.factor


class ReduceOnPlateau:
    """Multiply the factor by ``factor`` when the validation loss stops improving.

    After each evaluation, ``observe(val_loss)``: an improvement is val_loss < best (1 - threshold);
    after ``patience`` evaluations in a row without one, the factor is multiplied by ``factor``
    (not below ``min_factor``) and the count restarts. ``reductions`` lists the evaluation
    numbers (1, 2, ...) at which it dropped. (``train`` works on a copy, so one object can serve
    several runs.)
    """

    def __init__(self, factor=0.5, patience=3, threshold=1e-3, min_factor=1e-3):
        self.factor = _fraction("factor", factor, low_inclusive=False)
        if self.factor == 1:
            raise ValueError("factor: expected a number in (0, 1), got 1")
        self.patience = check_int("patience", patience)
        self.threshold = _fraction("threshold", threshold)
        self.min_factor = _fraction("min_factor", min_factor, low_inclusive=False)
        self.scale, self.best, self.bad, self.n_observed, self.reductions = 1.0, math.inf, 0, 0, []

    def observe(self, val_loss):
        val_loss = check_number("val_loss", val_loss)
        self.n_observed += 1
        if val_loss < self.best * (1.0 - self.threshold):
            self.best, self.bad = val_loss, 0
            return
        self.bad += 1
        if self.bad > self.patience and self.scale > self.min_factor:
            self.scale, self.bad = max(self.scale * self.factor, self.min_factor), 0
            self.reductions.append(self.n_observed)

    def __call__(self, t, n_steps):
        return self.scale


NAMES = {"constant": Constant, "cosine": WarmupCosine, "exponential": ExponentialDecay,
         "plateau": ReduceOnPlateau, "step": StepDrop}


def make_schedule(schedule):
    """A schedule from None (constant), a name in ``NAMES``, a callable, or a list of these.

    Returns a list of callables ``f(t, n_steps)`` (their factors multiply), copies of the objects
    given (a schedule with state, such as ``ReduceOnPlateau``, starts afresh each run).
    """
    items = schedule if isinstance(schedule, (list, tuple)) else [schedule]
    out = []
    for s in items:
        if s is None:
            s = Constant()
        elif isinstance(s, str):
            if s not in NAMES:
                raise ValueError(f"schedule: expected one of {sorted(NAMES)}, a callable f(step, n_steps) "
                                 f"or a list of these, got {s!r}")
            s = NAMES[s]()
        elif not callable(s):
            raise ValueError(f"schedule: expected None, a name in {sorted(NAMES)}, a callable f(step, n_steps) "
                             f"or a list of these, got {type(s).__name__}")
        out.append(copy.deepcopy(s))
    return out
