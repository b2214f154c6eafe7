"""Building blocks that models are assembled from: radial bases (``radial``), cutoff envelopes
(``cutoffs``), a plain MLP (``mlp``), spherical Bessel functions and DimeNet's radial basis (``bessel``),
Legendre polynomials and DimeNet's spherical basis (``angular``)."""
