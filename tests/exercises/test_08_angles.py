"""Exercise tests for exercises/08_angles.ipynb (checks in coursework/checks/nb08_angles.py)."""
from harness import checks_of

NOTEBOOK = "08_angles"
test_check = checks_of(NOTEBOOK)
