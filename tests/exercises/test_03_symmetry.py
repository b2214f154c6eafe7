"""Exercise tests for exercises/03_symmetry.ipynb (checks in coursework/checks/nb03_symmetry.py)."""
from harness import checks_of

NOTEBOOK = "03_symmetry"
test_check = checks_of(NOTEBOOK)
