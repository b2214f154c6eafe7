"""Exercise tests for exercises/01_graphs.ipynb (checks in coursework/checks/nb01_graphs.py)."""
from harness import checks_of

NOTEBOOK = "01_graphs"
test_check = checks_of(NOTEBOOK)
