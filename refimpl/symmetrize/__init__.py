"""Symmetry without equivariance: random-rotation augmentation (``augment``) and PCA
canonicalization (``canonical``) around a model that is not symmetric by itself."""
