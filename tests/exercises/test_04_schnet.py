"""Exercise tests for exercises/04_schnet.ipynb (checks in coursework/checks/nb04_schnet.py)."""
from harness import checks_of

NOTEBOOK = "04_schnet"
test_check = checks_of(NOTEBOOK)
