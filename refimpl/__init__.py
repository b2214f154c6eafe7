"""refimpl: the reference implementation of *Geometric GNNs from scratch*.

Small NumPy modules, one per idea, every backward pass written by hand, in subpackages:

- ``core``: layers and activations, losses, optimizers, initializers, gather/scatter, input
  validation (``validate``), finite-difference gradient checks (``gradcheck``)
- ``geometry``: group elements and their action (``transforms``), differentiable pair geometry
  (``displacement``), radius/k-NN graphs (``radius``), symmetry measurement (``symmetry``)
- ``graphs``: the ``Graph`` container and batching (``graph``), message passing, GCN, pooling
- ``nn``: building blocks models are assembled from: radial bases, cutoff envelopes, MLPs, vector ops
- ``models``: the shared model base (``base``) and one module per model (``schnet``, ...)
- ``simulation``: velocity-Verlet dynamics, thermostats, relaxation (``md``)
- ``data``: shipped data sets, MD17 loaders, the 3D Tetris shapes
- ``symmetrize``: augmentation and canonicalization around a non-symmetric model
- ``viz``: plots and py3Dmol views
- ``train``: energy+force training of any model; ``pretrained``: shipped trained models
- ``training``: what ``train`` is built from: learning-rate schedules, the progress line

The course's exercise checks and grader live in the separate package ``coursework``;
nothing here imports from it.

Conventions (see the book's conventions page): ``edge_index`` is (2, E) with
row 0 the source j and row 1 the target i, messages travel j -> i;
``batch[a]`` is the graph of atom a; float64 everywhere; randomness comes
from a ``np.random.default_rng(seed)`` passed in.
"""
__version__ = "0.1.0"
