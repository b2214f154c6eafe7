"""The built student edition has no solutions, and the full site has every one (in its toggle).

For every page ``book/solutions_NAME`` the test takes the longest line of each solution region of
``solutions/NAME.ipynb`` and looks for it in the page's text (HTML tags removed): present in the full
site, absent from the student edition. Slow (two book builds), so it runs only when asked, as
``.ci/run`` does after building both:

    bash tools/build_book.sh
    GGNN_STUDENT_EDITION=1 bash tools/build_book.sh --path-output _build/student
    GGNN_STUDENT_SITE=_build/student/_build/html python -m pytest tests/test_site_student.py

Once asked, nothing is skipped: a missing page is a failure. ``GGNN_SITE`` names the full site
(default ``_build/html``).
"""
import html
import os
import pathlib
import re

import pytest

from test_site_pages import SOLUTION_PAGES, solution_regions

ROOT = pathlib.Path(__file__).resolve().parents[1]
STUDENT = os.environ.get("GGNN_STUDENT_SITE", "")
SITE = pathlib.Path(os.environ.get("GGNN_SITE", ROOT / "_build" / "html"))

pytestmark = pytest.mark.skipif(not STUDENT, reason="student-edition test: run by .ci/run after both builds "
                                                    "(set GGNN_STUDENT_SITE)")


def page_text(site, stem):
    path = pathlib.Path(site) / "book" / f"{stem}.html"
    assert path.is_file(), f"no built page {path}"
    return html.unescape(re.sub(r"<[^>]+>", "", path.read_text(encoding="utf-8")))


@pytest.mark.parametrize("page", SOLUTION_PAGES, ids=[p.stem for p in SOLUTION_PAGES])
def test_solutions_are_in_the_site_and_not_in_the_student_edition(page):
    full, student = page_text(SITE, page.stem), page_text(STUDENT, page.stem)
    for lines in solution_regions(page.stem.removeprefix("solutions_")):
        marker = max((ln.strip() for ln in lines), key=len)
        assert marker in full, f"{page.stem}: solution line missing from the site: {marker!r}"
        assert marker not in student, f"{page.stem}: solution shown in the student edition: {marker!r}"
