"""refimpl: the reference implementation of *Geometric GNNs from scratch*.

Small NumPy modules, one per idea, every backward pass written by hand:

- ``layers``: linear layer and activations (forward/backward pairs)
- ``losses``: mean-squared error, softmax cross-entropy
- ``scatter``: gather, scatter-sum, scatter-mean (nodes <-> edges <-> graphs)
- ``graph``: the ``Graph`` container, edge lists, batching
- ``message_passing``: the basic message-passing layer, GCN, pooling
- ``optim``, ``init``: optimizers and seeded initializers
- ``gradcheck``: finite-difference gradient checks
- ``datasets``: data that ships with the package
- ``geometry``: random rotations/reflections/translations/permutations; displacement,
  distance, unit vector (forward/backward pairs, safe at coincident atoms)
- ``symmetry``: numerical invariance/equivariance errors of any function of (Z, pos)
- ``radius``: radius and k-nearest-neighbour graphs (k-d tree), smooth cutoff envelopes
- ``tetris``, ``augment``, ``canonical``, ``mlp``: the 3D Tetris shapes, random-rotation
  augmentation, PCA canonicalization (reporting its degenerate cases), a plain MLP
- ``schnet``, ``train``, ``md17``: SchNet with forces by backward pass, energy+force training,
  MD17/rMD17 loaders and the shipped ethanol DFT set
- ``md``: velocity-Verlet dynamics, Maxwell-Boltzmann velocities, L-BFGS relaxation
- ``plotting``, ``viz3d``: graph drawings; py3Dmol views (matplotlib fallback)
- ``checks``, ``grading``: exercise checks (students' self-check) and the isolated grader
- ``validate``: input checks that raise ``ValueError`` naming the argument

Conventions (see the book's conventions page): ``edge_index`` is (2, E) with
row 0 the source j and row 1 the target i, messages travel j -> i;
``batch[a]`` is the graph of atom a; float64 everywhere; randomness comes
from a ``np.random.default_rng(seed)`` passed in.
"""
__version__ = "0.1.0"
