"""Exercise tests for exercises/07_painn.ipynb (checks in coursework/checks/nb07_painn.py)."""
from harness import checks_of

NOTEBOOK = "07_painn"
test_check = checks_of(NOTEBOOK)
