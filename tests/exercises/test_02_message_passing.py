"""Exercise tests for exercises/02_message_passing.ipynb (checks in coursework/checks/nb02_message_passing.py)."""
from harness import checks_of

NOTEBOOK = "02_message_passing"
test_check = checks_of(NOTEBOOK)
