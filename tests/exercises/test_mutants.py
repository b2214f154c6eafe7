"""The checks catch realistic wrong answers and accept correct rewrites (mutants in mutants.py).

    python tests/exercises/mutants.py      # the survivors and both kill rates
"""
import pytest

import mutants


@pytest.mark.parametrize("mutant", mutants.MUTANTS, ids=[f"{m.exercise}: {m.label}" for m in mutants.MUTANTS])
def test_every_mutant_edits_the_solution(mutant):
    """Each edit matches the solution's code exactly once, so no mutant silently becomes the solution."""
    cells = mutants.apply(mutant)
    assert cells != mutants.solution_cells(mutant.notebook)


def test_hidden_and_public_checks_kill_at_least_95_percent_of_the_mutants():
    results = [(m, *mutants.evaluate(m)) for m in mutants.MUTANTS]
    killed = sum(everything for _, _, everything in results)
    by_public = sum(public for _, public, _ in results)
    survivors = [f"{m.exercise}: {m.label}" for m, _, everything in results if not everything]
    assert killed >= 0.95 * len(results), f"only {killed} of {len(results)} killed; survivors: {survivors}"
    assert killed > by_public, "the hidden checks kill nothing the public checks miss"


@pytest.mark.parametrize("rewrite", mutants.REWRITES, ids=[f"{r.exercise}: {r.label}" for r in mutants.REWRITES])
def test_correct_rewrites_pass_every_check(rewrite):
    assert not mutants.rewrite_failures(rewrite)


def test_every_exercise_of_notebooks_01_to_04_has_mutants_and_a_hidden_check():
    from coursework.checks import EXERCISES, load_all
    load_all()
    mutated = {m.exercise for m in mutants.MUTANTS}
    exercises = {name for name, ex in EXERCISES.items()                 # questions (no functions) aside
                 if ex.notebook[:2] in ("01", "02", "03", "04") and ex.functions}
    assert exercises <= mutated, f"exercises without mutants: {sorted(exercises - mutated)}"
    no_hidden = [n for n in exercises if n != "random_rotation" and all(c.public for c in EXERCISES[n].checks)]
    assert not no_hidden, f"exercises without a hidden check: {no_hidden}"
