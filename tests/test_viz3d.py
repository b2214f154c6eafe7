"""refimpl.viz.viz3d: arrows where the forces say, XYZ text, py3Dmol views, the matplotlib fallback."""
import json
import pathlib
import re

import matplotlib
import numpy as np
import pytest

from refimpl.data import datasets
from refimpl.viz import viz3d
from refimpl.geometry import random_rotation

matplotlib.use("Agg")
ROOT = pathlib.Path(__file__).resolve().parents[1]


@pytest.fixture
def mol():
    g = datasets.load_molecule("ethanol")
    forces = np.random.default_rng(0).normal(size=g.pos.shape)
    return g.z, g.pos, forces


def test_xyz_block_lists_every_atom_with_its_symbol(mol):
    Z, pos, _ = mol
    lines = viz3d.xyz_block(Z, pos, "ethanol").splitlines()
    assert lines[0] == str(len(Z)) and lines[1] == "ethanol"
    symbols = [ln.split()[0] for ln in lines[2:]]
    assert symbols == [viz3d.SYMBOLS[z] for z in Z]
    np.testing.assert_allclose([[float(v) for v in ln.split()[1:]] for ln in lines[2:]], pos, atol=1e-6)


def test_arrows_start_at_atoms_and_follow_the_forces(mol):
    Z, pos, F = mol
    F[3] = 0.0                                                   # a zero force draws no arrow
    starts, ends = viz3d.arrows(pos, F, scale=0.5)
    keep = np.r_[0:3, 4:len(Z)]
    np.testing.assert_allclose(starts, pos[keep])
    np.testing.assert_allclose(ends - starts, 0.5 * F[keep])


def test_default_scale_draws_the_longest_force_one_angstrom_long(mol):
    _, pos, F = mol
    scale = viz3d.arrow_scale(F, 3 * F)
    starts, ends = viz3d.arrows(pos, 3 * F, scale)
    assert np.isclose(np.linalg.norm(ends - starts, axis=1).max(), 1.0)
    assert viz3d.arrow_scale(np.zeros((2, 3))) == 1.0


def arrow_specs(html):
    """(start, end) of every addArrow call in py3Dmol's generated JavaScript."""
    specs = re.findall(r"addArrow\((\{.*?\})\)", html)
    out = []
    for s in specs:
        d = json.loads(re.sub(r"(\w+):", r'"\1":', s.replace("'", '"')))
        out.append(([d["start"][k] for k in "xyz"], [d["end"][k] for k in "xyz"]))
    return np.array(out)


def test_forces_view_draws_one_arrow_per_atom_where_the_forces_point(mol):
    pytest.importorskip("py3Dmol")
    Z, pos, F = mol
    html = viz3d.forces_view(Z, pos, F, scale=0.3, backend="py3dmol")._make_html()
    arrows = arrow_specs(html)
    assert arrows.shape == (len(Z), 2, 3)
    np.testing.assert_allclose(arrows[:, 0], pos, atol=1e-9)
    np.testing.assert_allclose(arrows[:, 1] - arrows[:, 0], 0.3 * F, atol=1e-9)
    assert "$3Dmolpromise" in html                              # the hook the book uses to serve 3Dmol.js


def test_rotated_pair_view_puts_the_rotated_copy_in_the_second_panel(mol):
    pytest.importorskip("py3Dmol")
    Z, pos, F = mol
    R = random_rotation(np.random.default_rng(1))
    html = viz3d.rotated_pair_view(Z, pos, F, R, F @ R.T, scale=1.0, backend="py3dmol")._make_html()
    right = [ln for ln in html.splitlines() if "[0][1].addArrow" in ln]
    arrows = arrow_specs("\n".join(right))
    np.testing.assert_allclose(arrows[:, 0], pos @ R.T, atol=1e-9)
    np.testing.assert_allclose(arrows[:, 1] - arrows[:, 0], F @ R.T, atol=1e-9)


def test_trajectory_view_holds_every_frame_and_animates(mol):
    pytest.importorskip("py3Dmol")
    Z, pos, _ = mol
    traj = pos[None] + 0.01 * np.arange(7)[:, None, None]
    html = viz3d.trajectory_view(Z, traj, backend="py3dmol")._make_html()
    assert html.count("frame ") == 7 and "addModelsAsFrames" in html and "animate" in html


def test_rotation_slider_carries_every_frame(mol):
    pytest.importorskip("py3Dmol")
    Z, pos, F = mol
    frames = [{"angle": a, "pos": pos, "forces": F, "readouts": {"E": str(a)}} for a in (0, 10, 20)]
    html = viz3d.rotation_slider_html(Z, frames)
    data = json.loads(re.search(r"var frames = (\[.*?\]);\n", html).group(1))
    assert [d["angle"] for d in data] == [0, 10, 20] and data[2]["readouts"] == {"E": "20"}
    uid = re.search(r'id="3dmolviewer_(\w+)"', html).group(1)
    assert f"viewer_{uid};" in html and 'max="2"' in html


@pytest.mark.parametrize("make", ["forces", "pair", "trajectory"])
def test_matplotlib_fallback_draws_the_same_content(mol, make):
    import matplotlib.pyplot as plt

    Z, pos, F = mol
    if make == "forces":
        fig = viz3d.forces_view(Z, pos, F, backend="matplotlib")
    elif make == "pair":
        fig = viz3d.rotated_pair_view(Z, pos, F, np.eye(3), F, backend="matplotlib")
    else:
        fig = viz3d.trajectory_view(Z, np.stack([pos, pos + 0.1]), backend="matplotlib")
    assert len(fig.axes) == (2 if make == "pair" else 1)
    assert all(ax.name == "3d" for ax in fig.axes)
    plt.close(fig)


def test_auto_backend_falls_back_without_py3dmol(mol, monkeypatch):
    import matplotlib.pyplot as plt

    monkeypatch.setattr(viz3d, "_py3dmol", lambda: None)
    Z, pos, F = mol
    fig = viz3d.forces_view(Z, pos, F)
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)
    with pytest.raises(ValueError, match="backend"):
        viz3d.forces_view(Z, pos, F, backend="py3dmol")


@pytest.mark.parametrize("kwargs, match", [
    ({"Z": [1, 6]}, "Z"), ({"Z": [1, 6, 99]}, "Z"), ({"forces": np.zeros((2, 3))}, "forces"),
    ({"pos": np.zeros((3, 2))}, "pos"), ({"backend": "vtk"}, "backend")])
def test_bad_input_names_the_argument(kwargs, match):
    args = {"Z": [1, 6, 8], "pos": np.zeros((3, 3)), "forces": np.ones((3, 3)), **kwargs}
    with pytest.raises(ValueError, match=match):
        viz3d.forces_view(**args)


def test_npm_3dmol_is_the_version_py3dmol_loads():
    py3Dmol = pytest.importorskip("py3Dmol")
    import inspect

    default_js = inspect.signature(py3Dmol.view.__init__).parameters["js"].default
    wanted = re.search(r"3dmol@([\d.]+)/", default_js).group(1)
    lock = json.loads((ROOT / "package-lock.json").read_text())
    assert lock["packages"]["node_modules/3dmol"]["version"] == wanted
    assert json.loads((ROOT / "package.json").read_text())["dependencies"]["3dmol"] == wanted


def test_py3dmol_1x_is_treated_as_missing(mol, monkeypatch):
    import sys
    import types

    import matplotlib.pyplot as plt

    monkeypatch.setitem(sys.modules, "py3Dmol", types.SimpleNamespace(__version__="1.8.1"))
    Z, pos, F = mol
    with pytest.warns(UserWarning, match="1.8.1"):
        fig = viz3d.forces_view(Z, pos, F)
    assert isinstance(fig, matplotlib.figure.Figure)
    plt.close(fig)
