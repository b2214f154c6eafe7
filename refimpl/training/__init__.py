"""Pieces of the training loop ``refimpl.train.train``: learning-rate schedules and the progress line."""
from refimpl.training.progress import Progress
from refimpl.training.schedules import (Constant, ExponentialDecay, ReduceOnPlateau, StepDrop, WarmupCosine,
                                        make_schedule)

__all__ = ["Constant", "ExponentialDecay", "Progress", "ReduceOnPlateau", "StepDrop", "WarmupCosine",
           "make_schedule"]
