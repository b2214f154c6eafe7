"""Exercise tests for exercises/06_vectors.ipynb (checks in coursework/checks/nb06_vectors.py)."""
from harness import checks_of

NOTEBOOK = "06_vectors"
test_check = checks_of(NOTEBOOK)
