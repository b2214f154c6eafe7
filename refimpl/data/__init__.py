"""Data that ships with the package (``datasets``), MD17/rMD17 loaders and the ethanol DFT set
(``md17``), the 3D Tetris shapes (``tetris``). The files themselves sit beside these modules."""
