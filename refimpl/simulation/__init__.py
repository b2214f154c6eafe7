"""Simulation with a trained potential: velocity-Verlet dynamics, thermostats, relaxation (``md``)."""
