"""The built book in a real browser: headless Chromium opens every page of ``_build/html``.

A page fails on a console error or uncaught exception, on any request leaving the site (the
book must work offline: MathJax and 3Dmol.js are served from ``_static/vendor``), on a py3Dmol
view whose canvas stays blank, on math MathJax did not render (or rendered as an error), and on
a notebook page without a Colab button that opens the right notebook of the repository. The
interactive rotation demo is driven: turning the molecule must leave the invariant energy
unchanged and change the coordinate model's.

Every page is also laid out at a desktop (1280 px) and a phone (390 px) width, and fails when
anything is cut off (``layout_problems``): a code, output or table block wider than the text
column (or scrolling sideways inside it), a display equation wider than the column that does not
scroll with a visible scrollbar, an equation running into its number, inline math clipped, a page
that scrolls sideways; on a figure without a caption or with its file path as alt text, a
figure shrunk below ``MIN_FIGURE_SCALE`` of its pixels at 1280 px, an image that does not load,
an icon that draws nothing, a
printed ``<py3Dmol.view at 0x...>``; and when the page with everything it loads weighs more
than ``PAGE_BUDGET`` bytes (``page_weight``).

Slow (a browser and the built site), so it runs only when asked, as ``.ci/run`` does:

    bash tools/build_book.sh && GGNN_BROWSER_TEST=1 python -m pytest tests/test_site_browser.py

Once asked, nothing is skipped: a missing site or browser is a failure. The site defaults to
``_build/html`` (``GGNN_SITE`` to test another, e.g. the student edition) and the browser to
``chromium`` on the PATH (``GGNN_CHROMIUM`` to use another binary).
"""
import functools
import http.server
import io
import os
import pathlib
import re
import shutil
import threading

import pytest
import yaml

ROOT = pathlib.Path(__file__).resolve().parents[1]
ENABLED = os.environ.get("GGNN_BROWSER_TEST", "") not in ("", "0")
SITE = pathlib.Path(os.environ.get("GGNN_SITE", ROOT / "_build" / "html"))
CHROMIUM_FLAGS = ["--no-sandbox", "--disable-gpu", "--disable-quic", "--no-first-run",
                  "--disable-background-networking", "--disable-component-update", "--disable-sync",
                  "--enable-unsafe-swiftshader", "--use-angle=swiftshader"]
NOT_PAGES = ("_static", "_sources", "_images", "_downloads", "jupyter_execute")
WIDTHS = {"desktop": {"width": 1280, "height": 900}, "phone": {"width": 390, "height": 844}}
# Bytes a page may load (HTML, CSS, scripts, fonts, images; uncompressed). Measured 2026-12-02:
# 1.65-1.92 MB for a page of text and math (the theme's CSS 0.4 MB, MathJax 0.8 MB; math-heavy chapters
# load more MathJax font files), at most 2.62 MB for a chapter with figures and 3D views (before:
# 3.7-4.5 MB, of which fontawesome.js 1.45 MB).
PAGE_BUDGET = {"plain": 2_000_000, "figures": 2_800_000}
MIN_FIGURE_SCALE = 0.9      # at 1280 px a figure is shown at >= 90 % of its pixels
RAW_TEX = re.compile(r"\\\(|\\\[|\$\$|\\(?:frac|mathbf|mathrm|mathcal|sum|alpha|hat|vec|lVert)\b")

pytestmark = pytest.mark.skipif(not ENABLED, reason="browser test: run by .ci/run after the book build "
                                                    "(set GGNN_BROWSER_TEST=1)")


def site_pages():
    if not SITE.is_dir():
        return []
    return sorted(p.relative_to(SITE).as_posix() for p in SITE.rglob("*.html")
                  if not p.relative_to(SITE).parts[0] in NOT_PAGES)


PAGES = site_pages()


class QuietHandler(http.server.SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


@pytest.fixture(scope="module")
def server():
    handler = functools.partial(QuietHandler, directory=str(SITE))
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    thread = threading.Thread(target=httpd.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{httpd.server_address[1]}/"
    httpd.shutdown()
    httpd.server_close()


@pytest.fixture(scope="module")
def browser():
    from playwright.sync_api import sync_playwright

    exe = os.environ.get("GGNN_CHROMIUM") or shutil.which("chromium") or shutil.which("chromium-browser")
    assert exe, "no Chromium: apt-get install chromium (Debian) or set GGNN_CHROMIUM"
    with sync_playwright() as p:
        b = p.chromium.launch(executable_path=exe, args=CHROMIUM_FLAGS, headless=True)
        yield b
        b.close()


class Visit:
    """One page opened in a fresh browser context, with what went wrong collected on the way."""

    def __init__(self, browser, base, path, width="desktop"):
        self.base, self.errors, self.outside = base, [], []
        self.context = browser.new_context(viewport=WIDTHS[width], is_mobile=width == "phone",
                                           has_touch=width == "phone")
        self.context.set_default_timeout(90_000)          # a loaded machine draws WebGL in software
        self.page = self.context.new_page()
        self.page.on("console", lambda m: m.type == "error" and self.errors.append(f"console: {m.text}"))
        self.page.on("pageerror", lambda e: self.errors.append(f"uncaught: {e}"))
        self.page.route("**/*", self._route)
        self.page.goto(base + path, wait_until="load")
        self.page.wait_for_load_state("networkidle")

    def _route(self, route):
        url = route.request.url
        if url.startswith(self.base) or url.startswith(("data:", "blob:")):
            route.continue_()
        else:
            self.outside.append(url)
            route.abort()

    def close(self):
        self.context.close()


def wait_for_mathjax(page):
    page.evaluate("""() => (window.MathJax && MathJax.startup && MathJax.startup.promise)
                        ? MathJax.startup.promise.then(() => true) : null""")


def math_problems(page):
    """Math spans that MathJax did not turn into mjx-container, MathJax errors, raw TeX in the text
    (equations wider than the column: ``layout_problems``)."""
    return page.evaluate(r"""() => {
        const out = [];
        document.querySelectorAll('.math').forEach(el => {
            if (!el.querySelector('mjx-container') && !el.closest('mjx-container'))
                out.push('unrendered: ' + el.textContent.slice(0, 60));
        });
        document.querySelectorAll('mjx-merror').forEach(el => out.push('MathJax error: ' + el.textContent.slice(0, 80)));
        const skip = 'PRE,CODE,SCRIPT,STYLE,TEXTAREA,MJX-CONTAINER,MJX-ASSISTIVE-MML';
        const walker = document.createTreeWalker(document.body, NodeFilter.SHOW_TEXT, {acceptNode: n =>
            n.parentElement && n.parentElement.closest(skip.toLowerCase().split(',').join(','))
                ? NodeFilter.FILTER_REJECT : NodeFilter.FILTER_ACCEPT});
        const texts = [];
        while (walker.nextNode()) texts.push(walker.currentNode.textContent);
        out.push('TEXT:' + texts.join(' '));
        return out;
    }""")


LAYOUT_JS = r"""(minScale) => {
    const out = [], article = document.querySelector('article.bd-article') || document.body;
    const col = article.getBoundingClientRect();
    const where = el => (el.id ? '#' + el.id + ' ' : '') + (el.textContent || el.getAttribute('src') || '')
        .replace(/\s+/g, ' ').trim().slice(0, 50);
    const doc = document.documentElement;
    if (doc.scrollWidth > doc.clientWidth + 1)
        out.push(`page scrolls sideways (${doc.scrollWidth} px > ${doc.clientWidth} px)`);
    // Blocks: within the column, and not scrolling sideways inside it (what scrolls is hidden).
    article.querySelectorAll('pre, div.highlight, div.cell_output, div.output, table, img, figure, ' +
                             'div[id^="3dmolviewer_"], div.pst-scrollable-table-container').forEach(el => {
        const r = el.getBoundingClientRect();
        if (r.width === 0) return;
        if (r.right > col.right + 1 || r.left < col.left - 1)
            out.push(`${el.tagName.toLowerCase()} outside the text column (${Math.round(r.left)}..` +
                     `${Math.round(r.right)} px, column ${Math.round(col.left)}..${Math.round(col.right)}): ${where(el)}`);
        else if (el.scrollWidth > el.clientWidth + 1 && el.tagName !== 'IMG')
            out.push(`${el.tagName.toLowerCase()} scrolls sideways (${el.scrollWidth - el.clientWidth} px hidden): ${where(el)}`);
    });
    // Display equations fit, or scroll with a visible cue (a scrollbar that takes room, or the
    // edge shadow of ggnn.css, for phones whose scrollbars only show while scrolling).
    const scrollsVisibly = a => ['auto', 'scroll'].includes(getComputedStyle(a).overflowX) &&
        (a.offsetHeight - a.clientHeight >= 4 || /inset/.test(getComputedStyle(a).boxShadow));
    article.querySelectorAll('mjx-container[display="true"]').forEach(el => {
        const drawn = el.firstElementChild.getBoundingClientRect().width;
        if (drawn > el.clientWidth + 1 && !scrollsVisibly(el))
            out.push(`display equation cut off (${Math.round(drawn - el.clientWidth)} px, no visible scrollbar): ${where(el)}`);
        if (el.scrollHeight > el.clientHeight + 2 && getComputedStyle(el).overflowY !== 'visible')
            out.push(`display equation cut at top or bottom (${el.scrollHeight - el.clientHeight} px): ${where(el)}`);
        const num = el.parentElement.querySelector(':scope > span.eqno');
        if (num) {
            const a = num.getBoundingClientRect(), m = el.firstElementChild.getBoundingClientRect();
            const shown = el.getBoundingClientRect();
            const right = Math.min(m.right, shown.right), left = Math.max(m.left, shown.left);
            if (left < a.right && a.left < right && m.top < a.bottom && a.top < m.bottom)
                out.push(`equation runs into its number ${num.textContent.trim()}: ${where(el)}`);
        }
    });
    // Inline math: no ancestor that hides overflow cuts what is drawn (mjx-math; the assistive
    // MathML beside it is invisible), unless that ancestor scrolls with a visible scrollbar.
    article.querySelectorAll('mjx-container:not([display="true"]) > mjx-math').forEach(math => {
        const el = math.parentElement, m = math.getBoundingClientRect();
        if (el.closest('.toggle-hidden, details:not([open])')) return;      // folded away on purpose
        for (let a = el; a && a !== article; a = a.parentElement) {
            const st = getComputedStyle(a);
            if (!['hidden', 'clip', 'auto', 'scroll'].includes(st.overflowX)) continue;
            const r = a.getBoundingClientRect();
            const cut = Math.max(r.left - m.left, m.right - r.right, r.top - m.top - 2, m.bottom - r.bottom - 2);
            if (cut <= 1) continue;
            if (!scrollsVisibly(a)) { out.push(`inline math clipped (${Math.round(cut)} px): ${where(el)}`); break; }
        }
        if (m.right > col.right + 1 && !el.closest('.ggnn-scrolls'))
            out.push(`inline math beyond the text column: ${where(el)}`);
    });
    // Figures: a caption, real alt text, natural size where the column allows.
    article.querySelectorAll('img').forEach(img => {
        if (img.complete && img.naturalWidth === 0) out.push(`image did not load: ${img.getAttribute('src')}`);
    });
    article.querySelectorAll('div.cell_output img, figure img').forEach(img => {
        const alt = (img.getAttribute('alt') || '').trim();
        if (!alt || /[\/]|\.(png|jpe?g|svg)$/i.test(alt) || alt.split(/\s+/).length < 3)
            out.push(`figure without real alt text (alt=${JSON.stringify(alt.slice(0, 40))}): ${img.getAttribute('src')}`);
        const fig = img.closest('figure');
        if (!fig || !fig.querySelector('figcaption') || !fig.querySelector('figcaption').textContent.trim())
            out.push(`figure without a caption: ${img.getAttribute('src')}`);
        if (minScale && img.naturalWidth && img.getBoundingClientRect().width < minScale * img.naturalWidth)
            out.push(`figure shrunk to ${Math.round(100 * img.getBoundingClientRect().width / img.naturalWidth)} % ` +
                     `of its ${img.naturalWidth} px: ${img.getAttribute('src')}`);
    });
    // Icons (CSS masks, tools/site_assets.py) draw something.
    document.querySelectorAll('.fa-solid, .fas, .fa-regular, .far, .fa-brands, .fab').forEach(el => {
        const st = getComputedStyle(el);
        if (el.getClientRects().length && (st.maskImage || st.webkitMaskImage || 'none') === 'none' &&
            getComputedStyle(el, '::before').content === 'none')
            out.push(`icon draws nothing: ${el.className}`);
    });
    if (/<py3Dmol\.view at 0x/.test(article.textContent)) out.push('printed <py3Dmol.view at 0x...> under a 3D view');
    return out;
}"""


def layout_problems(page, width):
    """What is cut off, clipped or unlabelled on the page at this width (see the module docstring)."""
    page.wait_for_timeout(200)          # ggnn.js fits the equations after MathJax
    return page.evaluate(LAYOUT_JS, MIN_FIGURE_SCALE if width == "desktop" else 0)


def page_weight(page):
    """(bytes, requests) the page loaded: the document and every resource, uncompressed."""
    return page.evaluate("""() => {
        const all = performance.getEntriesByType('navigation').concat(performance.getEntriesByType('resource'));
        return [all.reduce((s, e) => s + (e.decodedBodySize || 0), 0), all.length];
    }""")


def blank_fraction(png_bytes):
    """Fraction of pixels equal to the most common colour (the background) of a screenshot."""
    from PIL import Image

    img = Image.open(io.BytesIO(png_bytes)).convert("RGB")
    colors = img.getcolors(maxcolors=img.width * img.height)
    return max(c for c, _ in colors) / (img.width * img.height)


def snapshot(page, locator):
    """PNG of what the page shows inside ``locator`` (a clip of the viewport: much faster than an
    element screenshot with the software WebGL of a headless browser)."""
    locator.scroll_into_view_if_needed()
    return page.screenshot(clip=locator.bounding_box())


def check_3dmol_views(page):
    """Each py3Dmol view has a canvas of nonzero size with something drawn on it."""
    problems = []
    views = page.locator("div[id^='3dmolviewer_']")
    for k in range(views.count()):
        view = views.nth(k)
        view.scroll_into_view_if_needed()
        canvases = view.locator("canvas")
        try:
            canvases.first.wait_for(state="attached", timeout=15000)
        except Exception:
            problems.append(f"3Dmol view {k}: no canvas")
            continue
        page.wait_for_timeout(500)                       # let 3Dmol finish its first render
        for c in range(canvases.count()):
            canvas = canvases.nth(c)
            box = canvas.bounding_box()
            if not box or box["width"] < 10 or box["height"] < 10:
                problems.append(f"3Dmol view {k} canvas {c}: size {box}")
                continue
            blank = blank_fraction(snapshot(page, canvas))
            if blank > 0.995:
                problems.append(f"3Dmol view {k} canvas {c}: blank ({blank:.3f} of pixels are background)")
    return problems, views.count()


def repository():
    config = yaml.safe_load((ROOT / "_config.yml").read_text())
    url = config["repository"]["url"].rstrip("/")
    org, repo = url.split("github.com/")[1].split("/")[:2]
    return org, repo, config["repository"].get("branch", "main"), config["launch_buttons"]["colab_url"].rstrip("/")


def test_site_is_built_with_vendored_libraries():
    assert PAGES, f"no built site at {SITE}: run bash tools/build_book.sh first"
    for path in ("_static/vendor/3Dmol/3Dmol-min.js", "_static/vendor/mathjax/tex-chtml.js",
                 "_static/vendor/mathjax/output/chtml/fonts/woff-v2/MathJax_Main-Regular.woff"):
        assert (SITE / path).is_file(), f"{path} missing from the built site"


def test_every_toc_page_was_built():
    toc = yaml.safe_load((ROOT / "_toc.yml").read_text())
    files = [toc["root"]] + [c["file"] for part in toc.get("parts", []) for c in part.get("chapters", [])]
    missing = [f for f in files if not (SITE / f"{f}.html").is_file()]
    assert not missing, f"pages of _toc.yml missing from {SITE}: {missing}"


@pytest.mark.parametrize("path", PAGES)
def test_page_works_offline(browser, server, path):
    visit = Visit(browser, server, path)
    try:
        wait_for_mathjax(visit.page)
        views, n_views = check_3dmol_views(visit.page)
        *math, text = math_problems(visit.page)
        raw = sorted(set(RAW_TEX.findall(text)))
        problems = visit.errors + [f"request leaving the site: {u}" for u in visit.outside] + views + math
        if raw:
            problems.append(f"raw TeX outside math (unrendered math?): {raw}")
        problems += layout_problems(visit.page, "desktop")
        weight, requests = page_weight(visit.page)
        budget = PAGE_BUDGET["figures" if visit.page.locator("article img, div[id^='3dmolviewer_']").count() else "plain"]
        if weight > budget:
            problems.append(f"page weighs {weight / 1e6:.2f} MB in {requests} requests (budget {budget / 1e6:.1f} MB)")
        assert not problems, f"{path}:\n  " + "\n  ".join(problems)
        if n_views:
            assert (SITE / "_static/vendor/3Dmol/3Dmol-min.js").is_file()
    finally:
        visit.close()


@pytest.mark.parametrize("path", PAGES)
def test_page_fits_a_phone(browser, server, path):
    visit = Visit(browser, server, path, width="phone")
    try:
        wait_for_mathjax(visit.page)
        problems = visit.errors + layout_problems(visit.page, "phone")
        assert not problems, f"{path} at 390 px:\n  " + "\n  ".join(problems)
    finally:
        visit.close()


@pytest.mark.parametrize("path", [p for p in PAGES if (SITE / "_sources" / p).with_suffix(".ipynb").is_file()])
def test_notebook_page_has_colab_button(browser, server, path):
    org, repo, branch, colab = repository()
    notebook = pathlib.PurePosixPath(path).with_suffix(".ipynb").as_posix()
    visit = Visit(browser, server, path)
    try:
        hrefs = visit.page.eval_on_selector_all("a[href]", "els => els.map(e => e.getAttribute('href'))")
    finally:
        visit.close()
    expected = f"{colab}/github/{org}/{repo}/blob/{branch}/{notebook}"
    assert expected in hrefs, f"{path}: no Colab link {expected}; Colab links: {[h for h in hrefs if 'colab' in h]}"
    assert (ROOT / notebook).is_file(), f"the Colab button opens {notebook}, which is not in the repository"


DEMOS = [p for p in PAGES if "ggnn-rotation-demo" in (SITE / p).read_text(encoding="utf-8")]


def test_interactive_demo_is_on_the_site():
    assert DEMOS, "no page of the site holds the interactive rotation demo (book/demo_rotate.md)"


def readouts(page, root):
    rows = root.locator("table.ggnn-readouts tr")
    return {rows.nth(k).locator("td").nth(0).inner_text(): rows.nth(k).locator("td").nth(1).inner_text()
            for k in range(rows.count())}


@pytest.mark.parametrize("path", DEMOS)
def test_turning_the_molecule_keeps_the_invariant_energy(browser, server, path):
    visit = Visit(browser, server, path)
    try:
        page = visit.page
        root = page.locator(".ggnn-rotation-demo").first
        root.scroll_into_view_if_needed()
        page.wait_for_function("el => el.dataset.ready === '1'", arg=root.element_handle(), timeout=15000)
        uid = root.get_attribute("id").rsplit("-", 1)[-1]
        demo_view = page.locator(f"div[id='3dmolviewer_{uid}'] canvas").first
        before, shot_before = readouts(page, root), snapshot(page, demo_view)
        slider = root.locator("input.ggnn-angle")
        slider.evaluate("(el) => { el.value = '9'; el.dispatchEvent(new Event('input')); }")
        page.wait_for_function("el => el.dataset.frame === '9'", arg=root.element_handle(), timeout=5000)
        page.wait_for_timeout(300)
        after, shot_after = readouts(page, root), snapshot(page, demo_view)
        assert root.locator(".ggnn-angle-value").inner_text() == "90"
        assert not visit.errors, visit.errors
    finally:
        visit.close()
    inv = [k for k in before if k.startswith("invariant model E")]
    coord = [k for k in before if k.startswith("coordinate model E")]
    assert inv and coord, f"readouts: {before}"
    assert before[inv[0]] == after[inv[0]], (before, after)
    assert before[coord[0]] != after[coord[0]], (before, after)
    assert shot_before != shot_after, "the view did not change when the molecule was turned"
