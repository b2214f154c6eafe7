"""Exercise tests for exercises/05_equivariant.ipynb (checks in coursework/checks/nb05_equivariant.py)."""
from harness import checks_of

NOTEBOOK = "05_equivariant"
test_check = checks_of(NOTEBOOK)
