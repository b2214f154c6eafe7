"""The core: layers and activations, losses, optimizers, initializers, scatter/gather, input
validation and finite-difference gradient checks. Everything else is built from these."""
