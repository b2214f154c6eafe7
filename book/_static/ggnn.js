// The book's own script (added to every page by tools/sphinx_site.py): equations fit the column.
// An equation (display or inline) wider than its column is shrunk to fit, down to half its size;
// one still too wide scrolls sideways (ggnn.css gives it a visible scrollbar and an edge shadow).
// Run after MathJax typesets, and again on resize.
(function () {
  var SMALLEST = 0.5;                          // never shrink an equation below half its size
  // Shrink el (an mjx-container) until its drawing fits `room` px; if even SMALLEST is too wide,
  // let it scroll (ggnn.css: visible scrollbar, shadow at the edge).
  function shrink(el, room) {
    el.style.fontSize = "";
    el.classList.remove("ggnn-scrolls");
    var need = el.firstElementChild ? el.firstElementChild.getBoundingClientRect().width : el.scrollWidth;
    if (need <= room + 1) return;
    el.style.fontSize = Math.max(SMALLEST, Math.floor((room / need) * 100) / 100) * 100 + "%";
    need = el.firstElementChild.getBoundingClientRect().width;
    if (need > room + 1) {
      el.classList.add("ggnn-scrolls");
      el.tabIndex = 0;                         // reachable (and scrollable) from the keyboard
    }
  }
  function fit() {
    document.querySelectorAll('mjx-container[display="true"]').forEach(function (el) {
      shrink(el, el.clientWidth);
    });
    document.querySelectorAll('mjx-container:not([display="true"])').forEach(function (el) {
      el.classList.remove("ggnn-wide-inline");
      var block = el.closest("p, li, td, dd, div") || document.body;
      var room = block.clientWidth - 2;
      shrink(el, room);
      if (el.classList.contains("ggnn-scrolls")) el.classList.add("ggnn-wide-inline");
    });
  }
  // Tables: label every cell with its column heading (a phone shows one card per row), and mark
  // tables of many columns (set in a smaller font on a desktop).
  function labelTables() {
    document.querySelectorAll("article table").forEach(function (table) {
      var heads = Array.prototype.map.call(table.querySelectorAll("thead th"), function (th) {
        return th.textContent.trim();
      });
      if (!heads.length) return;
      table.classList.add("ggnn-cards");
      if (heads.length >= 6) table.classList.add("ggnn-wide");
      table.querySelectorAll("td code span.pre").forEach(function (span) {
        if (span.children.length) return;      // break a file name after / or _ (wbr), not anywhere
        var text = span.textContent;
        span.textContent = "";
        text.split(/(?<=[\/_])/).forEach(function (part, k) {
          if (k) span.appendChild(document.createElement("wbr"));
          span.appendChild(document.createTextNode(part));
        });
      });
      table.querySelectorAll("tbody tr").forEach(function (tr) {
        Array.prototype.forEach.call(tr.children, function (td, k) {
          if (heads[k]) td.setAttribute("data-label", heads[k]);
        });
      });
    });
  }
  var tries = 0;
  function whenTypeset() {
    if (window.MathJax && MathJax.startup && MathJax.startup.promise) {
      MathJax.startup.promise.then(fit);
    } else if (tries++ < 200) {
      setTimeout(whenTypeset, 50);
    }
  }
  var timer = null;
  window.addEventListener("resize", function () { clearTimeout(timer); timer = setTimeout(fit, 100); });
  function start() { labelTables(); whenTypeset(); }
  if (document.readyState === "loading") document.addEventListener("DOMContentLoaded", start);
  else start();
})();
