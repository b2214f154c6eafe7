"""Graphs: the ``Graph`` container, edge lists and batching (``graph``); message passing, GCN and
pooling (``message_passing``)."""
