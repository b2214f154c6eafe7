"""3D geometry: group elements and their action (``transforms``), differentiable pair geometry
(``displacement``), neighbour graphs (``radius``), triplets k -> j -> i with their angles (``triplets``)
and numerical symmetry measurement (``symmetry``).

The names of ``transforms`` and ``displacement`` are re-exported here, so
``from refimpl.geometry import random_rotation, distance_forward`` works.
"""
from refimpl.geometry.displacement import (TINY, displacement_backward, displacement_forward, distance_backward,
                                           distance_forward, unit_vector_backward, unit_vector_forward)
from refimpl.geometry.transforms import (apply_transform, check_batch, inverse_permutation, permute_atoms,
                                         permute_edge_index, random_improper, random_orthogonal, random_permutation,
                                         random_rotation, random_translation, reflection, rotate_vectors)

__all__ = ["TINY", "apply_transform", "check_batch", "displacement_backward", "displacement_forward",
           "distance_backward", "distance_forward", "inverse_permutation", "permute_atoms", "permute_edge_index",
           "random_improper", "random_orthogonal", "random_permutation", "random_rotation", "random_translation",
           "reflection", "rotate_vectors", "unit_vector_backward", "unit_vector_forward"]
