"""Predict-then-run questions (CS231n's inline questions): the student writes a prediction in a variable,
then runs a cell that measures the answer with their own code. Graded where the answer can be checked.

    question("q_batch_edges", NOTEBOOK, "prediction_batch_edges", choices="abcd", answer_hash="...")

The answer is stored as a hash (``answer_hash(name, letter)``) so that reading this file does not show it at a glance;
with a few choices it protects nothing, and is not meant to: the point is to predict before running.
"""
import hashlib

import numpy as np

from coursework.checks.core import CheckFailed, exercise


def answer_hash(name, letter):
    return hashlib.sha256(f"{name}:{letter}".encode()).hexdigest()[:16]


def question(name, notebook, variable, choices, answer_hash_, points=1, title=""):
    """Register a multiple-choice question: the notebook variable ``variable`` holds one letter of ``choices``."""
    ex = exercise(name, notebook, (), points, title=title or f"Predict, then run: {variable}")

    def inputs(rng):
        return {"choices": np.array(list(choices))}

    def run(student, x):
        return {"answer": np.array([str(getattr(student, variable, "")).strip().lower()[:20]])}

    def verify(x, got):
        letter = str(got["answer"].reshape(-1)[0]) if isinstance(got.get("answer"), np.ndarray) else ""
        if letter not in choices:
            raise CheckFailed(f"set {variable} to one of {', '.join(repr(c) for c in choices)} (your prediction), "
                              f"got {letter!r}")
        if answer_hash(name, letter) != answer_hash_:
            raise CheckFailed(f"{variable} = {letter!r} is not the answer; run the cell after the question and read "
                              "what it measures")

    ex.add(f"{variable} is the right choice", inputs, run, verify)
    return ex
