"""The single-source exercise pipeline: generated notebooks in sync, clean, and graded in both directions."""
import json
import pathlib

import pytest
import yaml

import clean_notebooks
import make_exercises
import make_solution_pages
from coursework.checks import exercises_for, load_all, load_namespace, run_check

ROOT = pathlib.Path(__file__).resolve().parents[1]
SOLUTIONS = sorted((ROOT / "solutions").glob("*.ipynb"))
NAMES = [p.stem for p in SOLUTIONS]


def test_exercises_are_generated_from_solutions():
    assert make_exercises.main(["--check"]) == 0, "run: python tools/make_exercises.py"


def test_solution_pages_are_generated_from_solutions():
    """book/solutions_NAME.ipynb, the site's page of solutions/NAME.ipynb, is up to date (no orphans)."""
    assert make_solution_pages.main(["--check"]) == 0, "run: python tools/make_exercises.py"


def test_every_solution_page_is_in_the_table_of_contents():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = {c["file"] for part in toc["parts"] for c in part.get("chapters", [])}
    missing = [n for n in NAMES if f"book/solutions_{n}" not in files]
    assert not missing, f"solutions pages not in _toc.yml (so not built): {missing}"


@pytest.mark.parametrize("name", NAMES)
def test_editing_a_solution_makes_its_page_out_of_date(name):
    nb = json.loads((ROOT / "solutions" / f"{name}.ipynb").read_text())
    cell = next(c for c in nb["cells"] if "# END SOLUTION" in "".join(c["source"]))
    text = "".join(cell["source"]).replace("# END SOLUTION", "edited = True  # a changed solution\n# END SOLUTION", 1)
    cell["source"] = text.splitlines(keepends=True)
    page = make_solution_pages.dumps(make_solution_pages.make_page(nb, name))
    assert page != make_solution_pages.page_path(name).read_text(encoding="utf-8")
    assert "edited = True" in page


def test_solution_page_tags_solutions_and_drops_the_markers():
    nb = {"cells": [{"cell_type": "code", "metadata": {"tags": ["colab-install"]}, "source": "pip stuff"},
                    {"cell_type": "markdown", "metadata": {},
                     "source": "# Exercises: squares\n\nWrite f.\n\n**How to work.** Run the cells.\n\nNotes."},
                    {"cell_type": "code", "metadata": {}, "source": "def f(x):\n    # BEGIN SOLUTION\n"
                     "    # HINT: square it\n    return x * x\n    # END SOLUTION\n"},
                    {"cell_type": "code", "metadata": {"tags": ["self-check", "raises-in-exercise"]},
                     "source": "check('f')"}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    page = make_solution_pages.make_page(nb, "99_squares")
    texts = ["".join(c["source"]) for c in page["cells"]]
    tags = [c["metadata"].get("tags", []) for c in page["cells"]]
    assert tags[0] == ["colab-install", "remove-cell"] and "pip stuff" not in texts[0]
    assert texts[1].startswith("# Solutions: squares\n") and "exercises/99_squares.ipynb" in texts[1]
    assert texts[2] == "Write f.\n\nNotes."
    assert texts[3] == "def f(x):\n    # HINT: square it\n    return x * x" and tags[3] == ["solution"]
    assert tags[4] == ["self-check"]
    nb["cells"][2]["source"] = "def f(x):\n    return x * x\n"
    with pytest.raises(SystemExit, match="no '# BEGIN SOLUTION' region"):
        make_solution_pages.make_page(nb, "99_squares")


def test_notebooks_are_committed_without_outputs():
    assert clean_notebooks.main(["--check"]) == 0, "run: python tools/clean_notebooks.py"


def test_every_notebook_with_checks_has_exercise_solution_and_test_module():
    notebooks = {ex.notebook for ex in load_all().values()}
    assert notebooks, "no exercise is registered"
    for nb in notebooks:
        assert (ROOT / "solutions" / f"{nb}.ipynb").exists(), f"solutions/{nb}.ipynb missing"
        assert (ROOT / "exercises" / f"{nb}.ipynb").exists(), f"exercises/{nb}.ipynb missing"
        assert (ROOT / "tests" / "exercises" / f"test_{nb}.py").exists(), f"tests/exercises/test_{nb}.py missing"
    assert set(NAMES) <= notebooks, f"solution notebooks without checks: {sorted(set(NAMES) - notebooks)}"


@pytest.mark.parametrize("name", NAMES)
def test_unsolved_exercise_fails_every_check(name):
    namespace, _ = load_namespace(ROOT / "exercises" / f"{name}.ipynb")
    checks = [c for ex in exercises_for(name) for c in ex.checks]
    passed = [c.name for c in checks if run_check(c, namespace).passed]
    assert not passed, f"checks that pass on the unsolved exercises/{name}.ipynb: {passed}"


@pytest.mark.parametrize("name", NAMES)
def test_solution_passes_every_check(name):
    namespace, errors = load_namespace(ROOT / "solutions" / f"{name}.ipynb")
    assert not errors, errors
    failed = {c.name: r.message for ex in exercises_for(name) for c in ex.checks
              if not (r := run_check(c, namespace)).passed}
    assert not failed, failed


@pytest.mark.parametrize("name", NAMES)
def test_install_cell_installs_the_configured_package(name):
    url = yaml.safe_load((ROOT / "_config.yml").read_text())["course"]["package_url"]
    for folder in ("solutions", "exercises"):
        first = json.loads((ROOT / folder / f"{name}.ipynb").read_text())["cells"][0]
        assert "colab-install" in first["metadata"]["tags"]
        assert url in "".join(first["source"])


def test_solution_regions_become_stubs_with_hints():
    text = "def f(x):\n    # BEGIN SOLUTION\n    # HINT: square it\n    return x * x\n    # END SOLUTION\n"
    stub = make_exercises.strip_solutions(text, "t")
    assert "x * x" not in stub
    assert "    raise NotImplementedError('Exercise: square it')" in stub
    ns = {}
    exec(stub, ns)
    with pytest.raises(NotImplementedError, match="square it"):
        ns["f"](2)


@pytest.mark.parametrize("text", ["# BEGIN SOLUTION\nx = 1\n", "x = 1\n# END SOLUTION\n",
                                  "# BEGIN SOLUTION\n# BEGIN SOLUTION\n# END SOLUTION\n"])
def test_unbalanced_solution_markers_are_rejected(text):
    with pytest.raises(SystemExit):
        make_exercises.strip_solutions(text, "t")


@pytest.mark.parametrize("content, match", [("", "empty"), ("{not json", "not valid notebook JSON"),
                                            ('{"cells": 3}', "no list of cells")])
def test_malformed_submission_gives_a_clear_error(tmp_path, content, match):
    path = tmp_path / "sub.ipynb"
    path.write_text(content)
    with pytest.raises(ValueError, match=match):
        load_namespace(path)


def test_a_broken_cell_does_not_hide_the_others(tmp_path):
    nb = {"cells": [{"cell_type": "code", "source": "1 / 0", "metadata": {}},
                    {"cell_type": "code", "source": ["%matplotlib inline\n", "def f():\n", "    return 3\n"],
                     "metadata": {}}], "metadata": {}, "nbformat": 4, "nbformat_minor": 5}
    path = tmp_path / "sub.ipynb"
    path.write_text(json.dumps(nb))
    namespace, errors = load_namespace(path)
    assert namespace["f"]() == 3
    assert len(errors) == 1 and "ZeroDivisionError" in errors[0]


# ----------------------------------------------------------------------------- chapters do not print answers
def graded_names():
    """Functions students write (defined in a solution region) and the refimpl functions that solve them."""
    import re
    names = set()
    for path in SOLUTIONS:
        for cell in json.loads(path.read_text())["cells"]:
            src = "".join(cell["source"])
            if cell["cell_type"] == "code" and "BEGIN SOLUTION" in src:
                names.update(re.findall(r"^\s*def (\w+)\(", src, re.M))
    names.update(ref.rsplit(".", 1)[-1] for ex in load_all().values() for ref in ex.reference)
    return names


def printed_answers(cells, names):
    """(cell number, name) for every code cell that passes a graded name to inspect.getsource."""
    import re
    found = []
    for k, cell in enumerate(cells):
        if cell["cell_type"] != "code":
            continue
        args = " ".join(re.findall(r"getsource\(([^)]*)\)", "".join(cell["source"])))
        found += [(k, n) for n in sorted(names) if re.search(rf"\b{n}\b", args)]
    return found


def test_chapters_do_not_print_graded_functions():
    names = graded_names()
    assert {"gcn_norm", "cfconv_backward", "radius_graph_naive", "canonicalize", "velocity_verlet_step"} <= names
    shown = {p.name: hits for p in sorted((ROOT / "book").glob("*.ipynb"))
             if (hits := printed_answers(json.loads(p.read_text())["cells"], names))}
    assert not shown, f"chapters print the code of functions an exercise asks for (show help(f) and a test): {shown}"


def test_printed_answers_finds_getsource_of_a_graded_function():
    cells = [{"cell_type": "code", "source": "print(inspect.getsource(mp.gcn_norm))\n"},
             {"cell_type": "code", "source": "print(inspect.getsource(radius.radius_graph_naive))"},
             {"cell_type": "code", "source": "help(mp.gcn_norm)\nprint(inspect.getsource(mp.gcn_conv_forward))"},
             {"cell_type": "markdown", "source": "inspect.getsource(gcn_norm)"}]
    assert printed_answers(cells, {"gcn_norm", "radius_graph_naive", "radius_graph"}) == [(0, "gcn_norm"),
                                                                                          (1, "radius_graph_naive")]
