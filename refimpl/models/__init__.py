"""Models: one module per model (``schnet``), on a shared base (``base``)."""
