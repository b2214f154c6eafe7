"""The course's own tooling, apart from the library: exercise self-checks (``checks``, what a student
calls in Colab) and the isolated grader (``grading``, what an instructor runs). ``refimpl`` never
imports from here."""
