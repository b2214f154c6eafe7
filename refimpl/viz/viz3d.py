"""3D views that teach: a molecule with its force arrows, a molecule next to its rotated copy,
an MD trajectory to play, and a molecule the reader rotates with a slider.

Each view is a py3Dmol viewer (``pip install py3Dmol>=2.0``; 1.x draws blank in Colab). Where
py3Dmol is not installed, ``forces_view``, ``rotated_pair_view`` and ``trajectory_view`` draw the
same content with matplotlib instead (``backend="auto"``). In the built book the pages serve
3Dmol.js themselves (see ``tools/sphinx_site.py``); in Colab and Jupyter py3Dmol loads it.

Shapes: ``Z`` (N,) atomic numbers; ``pos`` (N, 3) in Angstrom; ``forces`` (N, 3) in eV/Angstrom;
``traj`` (T, N, 3). An arrow starts at its atom and is ``scale * F`` long (Angstrom per
eV/Angstrom); by default the longest force over everything drawn is 1 Angstrom long.
"""
import json

import numpy as np

from refimpl.core.validate import as_float_array, as_index_array, check_positive_int

SYMBOLS = {1: "H", 5: "B", 6: "C", 7: "N", 8: "O", 9: "F", 14: "Si", 15: "P", 16: "S", 17: "Cl", 35: "Br"}
COLORS = {1: "0.85", 6: "0.3", 7: "tab:blue", 8: "tab:red"}     # matplotlib colours of the fallback
ARROW_COLORS = ("#d62728", "#1f77b4")                           # forces; a second set (e.g. predicted)
STYLE = {"stick": {"radius": 0.12}, "sphere": {"scale": 0.22}}
ZOOM = 1.6           # after zoomTo (which leaves a wide margin): the molecule fills most of the view


def _check_molecule(Z, pos):
    pos = as_float_array("pos", pos, shape=(None, 3))
    Z = as_index_array("Z", Z)
    if Z.shape[0] != pos.shape[0]:
        raise ValueError(f"Z: expected one atomic number per atom ({pos.shape[0]}), got {Z.shape[0]}")
    unknown = sorted(set(Z.tolist()) - set(SYMBOLS))
    if unknown:
        raise ValueError(f"Z: no element symbol for atomic numbers {unknown}; known: {sorted(SYMBOLS)}")
    return Z, pos


def _check_vectors(name, v, n):
    return as_float_array(name, v, shape=(n, 3))


def xyz_block(Z, pos, comment=""):
    """The molecule as text in the XYZ format (count line, comment line, one 'symbol x y z' per atom)."""
    Z, pos = _check_molecule(Z, pos)
    lines = [str(len(Z)), comment.replace("\n", " ")]
    lines += [f"{SYMBOLS[z]} {x:.6f} {y:.6f} {w:.6f}" for z, (x, y, w) in zip(Z.tolist(), pos)]
    return "\n".join(lines) + "\n"


def arrow_scale(*force_sets, length=1.0):
    """Scale (Angstrom per eV/Angstrom) that draws the longest force of all sets ``length`` long."""
    longest = max((float(np.linalg.norm(np.asarray(f, dtype=np.float64), axis=-1).max()) for f in force_sets
                   if np.size(f)), default=0.0)
    return length / longest if longest > 0 else 1.0


def arrows(pos, forces, scale, min_length=1e-3):
    """Arrow segments ``start = x_a``, ``end = x_a + scale * F_a``; arrows shorter than ``min_length``
    Angstrom are dropped (a zero force draws nothing). Returns (starts (M, 3), ends (M, 3))."""
    pos = as_float_array("pos", pos, shape=(None, 3))
    forces = _check_vectors("forces", forces, pos.shape[0])
    ends = pos + scale * forces
    keep = np.linalg.norm(ends - pos, axis=1) >= min_length
    return pos[keep], ends[keep]


def _py3dmol():
    """The py3Dmol module if a version >= 2 is installed, else None (1.x draws blank in Colab)."""
    try:
        import py3Dmol
    except ImportError:
        return None
    major = str(getattr(py3Dmol, "__version__", "0")).split(".")[0]
    if not major.isdigit() or int(major) < 2:
        import warnings
        warnings.warn(f"py3Dmol {getattr(py3Dmol, '__version__', '?')} draws blank in Colab; "
                      "using matplotlib (pip install -U 'py3Dmol>=2.0')", stacklevel=3)
        return None
    return py3Dmol


def _use_py3dmol(backend):
    if backend not in ("auto", "py3dmol", "matplotlib"):
        raise ValueError(f"backend: expected 'auto', 'py3dmol' or 'matplotlib', got {backend!r}")
    if backend == "matplotlib":
        return None
    mod = _py3dmol()
    if mod is None and backend == "py3dmol":
        raise ValueError("backend: 'py3dmol' asked for but py3Dmol is not installed (pip install 'py3Dmol>=2.0')")
    return mod


def _framed(view, zoom=ZOOM):
    """Fit the camera to the molecule, and display the view as itself only: py3Dmol's views also
    print their repr (``<py3Dmol.view at 0x...>``) under the picture unless shown with ``show()``."""
    view.zoomTo()
    if zoom != 1.0:
        view.zoom(zoom)
    view._ipython_display_ = view.show
    return view


def _point(p):
    return {"x": float(p[0]), "y": float(p[1]), "z": float(p[2])}


def _add_arrows(view, pos, forces, scale, color, **where):
    for start, end in zip(*arrows(pos, forces, scale)):
        view.addArrow({"start": _point(start), "end": _point(end), "radius": 0.06, "radiusRatio": 2.0,
                       "mid": 0.75, "color": color}, **where)


# ----------------------------------------------------------------------------- matplotlib fallback
def _mpl_axes(n, title=None, size=4.0):
    import matplotlib.pyplot as plt
    fig = plt.figure(figsize=(size * n, size))
    axes = [fig.add_subplot(1, n, k + 1, projection="3d") for k in range(n)]
    if title:
        fig.suptitle(title)
    return fig, axes


def _mpl_molecule(ax, Z, pos, forces=None, scale=1.0, color=ARROW_COLORS[0], title=None):
    ax.scatter(*pos.T, s=[120 if z > 1 else 50 for z in Z], c=[COLORS.get(z, "tab:green") for z in Z],
               edgecolors="k", depthshade=False)
    if forces is not None:
        starts, ends = arrows(pos, forces, scale)
        if len(starts):
            ax.quiver(*starts.T, *(ends - starts).T, color=color, arrow_length_ratio=0.25)
    ax.set_xlabel("x (Å)")
    ax.set_ylabel("y (Å)")
    ax.set_zlabel("z (Å)")
    if title:
        ax.set_title(title)


# ----------------------------------------------------------------------------- the views
def forces_view(Z, pos, forces, scale=None, width=480, height=360, backend="auto"):
    """A molecule with an arrow on each atom for its force.

    Z: (N,); pos: (N, 3) Angstrom; forces: (N, 3) eV/Angstrom; scale: see module docstring.
    Returns a ``py3Dmol.view`` (display it as the last line of a cell) or a matplotlib Figure.
    """
    Z, pos = _check_molecule(Z, pos)
    forces = _check_vectors("forces", forces, len(Z))
    scale = arrow_scale(forces) if scale is None else float(scale)
    mod = _use_py3dmol(backend)
    if mod is None:
        fig, (ax,) = _mpl_axes(1)
        _mpl_molecule(ax, Z, pos, forces, scale)
        return fig
    view = mod.view(width=width, height=height)
    view.addModel(xyz_block(Z, pos), "xyz")
    view.setStyle(STYLE)
    _add_arrows(view, pos, forces, scale, ARROW_COLORS[0])
    return _framed(view)


def rotated_pair_view(Z, pos, forces, R, forces_rotated, scale=None, width=720, height=340, backend="auto"):
    """Side by side: the molecule with its forces, and the rotated copy ``pos @ R.T`` with the forces
    computed on it. For an equivariant model the right arrows are the left ones turned by R.

    Z: (N,); pos, forces, forces_rotated: (N, 3); R: (3, 3) orthogonal. Both panels share one
    camera (drag either to turn both) and one arrow scale. Returns a py3Dmol view or a Figure.
    """
    from refimpl.geometry import apply_transform

    Z, pos = _check_molecule(Z, pos)
    forces = _check_vectors("forces", forces, len(Z))
    forces_rotated = _check_vectors("forces_rotated", forces_rotated, len(Z))
    pos_rotated = apply_transform(pos, R=R)
    scale = arrow_scale(forces, forces_rotated) if scale is None else float(scale)
    panels = [(pos, forces, "molecule"), (pos_rotated, forces_rotated, "rotated copy")]
    mod = _use_py3dmol(backend)
    if mod is None:
        fig, axes = _mpl_axes(2)
        for ax, (p, f, title) in zip(axes, panels):
            _mpl_molecule(ax, Z, p, f, scale, title=title)
        return fig
    view = mod.view(width=width, height=height, viewergrid=(1, 2), linked=True)
    for col, (p, f, title) in enumerate(panels):
        where = {"viewer": (0, col)}
        view.addModel(xyz_block(Z, p), "xyz", **where)
        view.setStyle(STYLE, **where)
        _add_arrows(view, p, f, scale, ARROW_COLORS[0], **where)
        view.addLabel(title, {"position": {"x": 8, "y": 8, "z": 0}, "useScreen": True, "fontSize": 12,
                              "fontColor": "black", "backgroundColor": "white", "backgroundOpacity": 0.8}, **where)
    return _framed(view)


def trajectory_view(Z, traj, interval_ms=80, width=480, height=360, backend="auto"):
    """An MD trajectory that plays in a loop (one frame per ``interval_ms`` milliseconds).

    Z: (N,); traj: (T, N, 3) Angstrom. Returns a py3Dmol view, or without py3Dmol a Figure with
    the path of every atom and the first and last frames.
    """
    traj = as_float_array("traj", traj, shape=(None, None, 3))
    Z, _ = _check_molecule(Z, traj[0])
    if traj.shape[1] != len(Z):
        raise ValueError(f"traj: expected shape (T, {len(Z)}, 3), got {traj.shape}")
    interval_ms = check_positive_int("interval_ms", interval_ms)
    mod = _use_py3dmol(backend)
    if mod is None:
        fig, (ax,) = _mpl_axes(1, title=f"{traj.shape[0]} frames: paths, first (faded) and last frame")
        for a in range(len(Z)):
            ax.plot(*traj[:, a].T, lw=0.8, color="0.5")
        ax.scatter(*traj[0].T, c=[COLORS.get(z, "tab:green") for z in Z], alpha=0.3, depthshade=False)
        _mpl_molecule(ax, Z, traj[-1])
        return fig
    view = mod.view(width=width, height=height)
    view.addModelsAsFrames("".join(xyz_block(Z, frame, f"frame {t}") for t, frame in enumerate(traj)), "xyz")
    view.setStyle(STYLE)
    view.animate({"loop": "forward", "interval": interval_ms})
    return _framed(view, zoom=1.4)          # the atoms move: a little more margin


def rotation_slider_html(Z, frames, width=520, height=380, scale=None, caption=""):
    """HTML of a molecule the reader turns with a slider, with readouts that update as it turns.

    frames: a list of dicts, one per slider position, each with ``angle`` (degrees), ``pos``
    (N, 3), ``forces`` (N, 3) and ``readouts`` ({label: text}); ``forces_other`` (N, 3) optional,
    drawn in a second colour. Every frame is computed in Python beforehand (the JavaScript only
    shows them), so what the reader sees is what the model predicted. Display it with
    ``IPython.display.HTML``. Needs py3Dmol (its viewer draws the molecule).
    """
    mod = _py3dmol()
    if mod is None:
        raise ValueError("rotation_slider_html needs py3Dmol >= 2.0 (pip install 'py3Dmol>=2.0')")
    if not frames:
        raise ValueError("frames: expected at least one frame")
    Z, _ = _check_molecule(Z, frames[0]["pos"])
    sets = [f["forces"] for f in frames] + [f["forces_other"] for f in frames if "forces_other" in f]
    scale = arrow_scale(*sets) if scale is None else float(scale)
    data = []
    for k, f in enumerate(frames):
        pos = _check_vectors(f"frames[{k}]['pos']", f["pos"], len(Z))
        item = {"angle": float(f["angle"]), "xyz": xyz_block(Z, pos), "readouts": dict(f["readouts"]),
                "arrows": [[list(map(float, s)), list(map(float, e)), ARROW_COLORS[0]]
                           for s, e in zip(*arrows(pos, f["forces"], scale))]}
        if "forces_other" in f:
            item["arrows"] += [[list(map(float, s)), list(map(float, e)), ARROW_COLORS[1]]
                               for s, e in zip(*arrows(pos, f["forces_other"], scale))]
        data.append(item)
    view = mod.view(width=width, height=height)
    view.addModel(data[0]["xyz"], "xyz")
    view.setStyle(STYLE)
    view.zoomTo()
    html = view._make_html()                  # py3Dmol names its viewer viewer_<uniqueid> here
    controls = _SLIDER_TEMPLATE.format(uid=view.uniqueid, last=len(data) - 1, caption=caption,
                                       data=json.dumps(data), style=json.dumps(STYLE))
    return html + controls


_SLIDER_TEMPLATE = """
<div class="ggnn-rotation-demo" id="ggnn-demo-{uid}" style="max-width: 520px">
  <label>Rotation angle: <input type="range" class="ggnn-angle" min="0" max="{last}" value="0" step="1"
     style="width: 60%"> <span class="ggnn-angle-value">0</span>&deg;</label>
  <table class="ggnn-readouts" style="font-family: monospace"></table>
  <p style="font-size: 0.9em">{caption}</p>
</div>
<script>
(function() {{
  var frames = {data};
  var style = {style};
  var root = document.getElementById("ggnn-demo-{uid}");
  var slider = root.querySelector(".ggnn-angle");
  var angleText = root.querySelector(".ggnn-angle-value");
  var table = root.querySelector(".ggnn-readouts");
  function show(viewer, k) {{
    var f = frames[k];
    viewer.removeAllModels();
    viewer.removeAllShapes();
    viewer.addModel(f.xyz, "xyz");
    viewer.setStyle({{}}, style);
    f.arrows.forEach(function(a) {{
      viewer.addArrow({{start: {{x: a[0][0], y: a[0][1], z: a[0][2]}}, end: {{x: a[1][0], y: a[1][1], z: a[1][2]}},
                        radius: 0.06, radiusRatio: 2.0, mid: 0.75, color: a[2]}});
    }});
    viewer.render();
    angleText.textContent = f.angle.toFixed(0);
    table.innerHTML = "";
    Object.keys(f.readouts).forEach(function(label) {{
      var row = table.insertRow();
      row.insertCell().textContent = label;
      row.insertCell().textContent = f.readouts[label];
    }});
    root.dataset.frame = String(k);
  }}
  $3Dmolpromise.then(function() {{
    var viewer = viewer_{uid};
    show(viewer, 0);
    slider.addEventListener("input", function() {{ show(viewer, parseInt(slider.value, 10)); }});
    root.dataset.ready = "1";
  }});
}})();
</script>
"""
