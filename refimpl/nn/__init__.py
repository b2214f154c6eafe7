"""Building blocks that models are assembled from: radial bases (``radial``), cutoff envelopes
(``cutoffs``), a plain MLP (``mlp``)."""
