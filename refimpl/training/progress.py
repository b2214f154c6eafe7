"""One updating progress line for training, the same in a terminal and in a Jupyter notebook.

In a terminal the line is redrawn in place with a carriage return ``\\r``; in a notebook (an
IPython kernel) it is one output that ``IPython.display`` updates. Example:

    step 1200/3000 [########------------]  40% | 85.3 steps/s | 14 s, 21 s left | loss 0.0123 | lr 2.1e-02
    | val E 16.1 meV, F 59.1 meV/A        (one line)
"""
import sys
import time


def format_line(step, total, elapsed, fields=None, width=20):
    """The progress line at ``step`` of ``total`` after ``elapsed`` seconds; ``fields`` (name -> text) follow."""
    done = int(width * step / total) if total else width
    rate = step / elapsed if elapsed > 0 else float("nan")
    left = (total - step) / rate if step and elapsed > 0 else float("nan")
    parts = [f"step {step:{len(str(total))}d}/{total} [{'#' * done}{'-' * (width - done)}] {100 * step / total:3.0f}%",
             f"{rate:.1f} steps/s", f"{elapsed:.0f} s, {left:.0f} s left"]
    parts += [f"{k} {v}" for k, v in (fields or {}).items()]
    return " | ".join(parts)


def _in_notebook():
    """True inside a Jupyter kernel (where ``\\r`` does not redraw a line)."""
    shell = sys.modules.get("IPython") and sys.modules["IPython"].get_ipython()
    return shell is not None and "IPKernelApp" in getattr(shell, "config", {})


class Progress:
    """Show ``format_line`` for a run of ``total`` steps; ``update(step, **fields)``, then ``close()``;
    ``write(text)`` prints a line of its own without breaking the progress line.

    enabled: False shows nothing; stream: a file to write to with ``\\r`` (default: a notebook
    display handle in a Jupyter kernel, else sys.stdout); min_interval: seconds between redraws
    (the first and last step are always drawn); clock: a function returning seconds.
    """

    def __init__(self, total, enabled=True, stream=None, min_interval=0.25, clock=time.perf_counter):
        from refimpl.training.schedules import check_int
        if not isinstance(enabled, bool):
            raise ValueError(f"enabled: expected True or False, got {enabled!r}")
        total = check_int("total", total, low=1)
        self.total, self.enabled, self.min_interval, self.clock = total, enabled, min_interval, clock
        self.start, self.last_draw, self.line, self.handle = clock(), -float("inf"), "", None
        self.stream = stream
        if enabled and stream is None:
            if _in_notebook():
                from IPython.display import display
                self.handle = display({"text/plain": ""}, raw=True, display_id=True)
            else:
                self.stream = sys.stdout

    def update(self, step, force=False, **fields):
        """Redraw with the state after ``step`` (at most every ``min_interval`` s unless ``force``)."""
        now = self.clock()
        if not self.enabled or not (force or step in (1, self.total) or now - self.last_draw >= self.min_interval):
            return
        self.last_draw = now
        line = format_line(step, self.total, now - self.start, fields)
        if self.handle is not None:
            self.handle.update({"text/plain": line}, raw=True)
        else:
            self.stream.write("\r" + line + " " * max(len(self.line) - len(line), 0))
            self.stream.flush()
        self.line = line

    def write(self, text):
        """Print ``text`` on a line of its own above the progress line (in a terminal: clear, print, redraw)."""
        if self.enabled and self.stream is not None and self.line:
            self.stream.write("\r" + text + " " * max(len(self.line) - len(text), 0) + "\n" + self.line)
            self.stream.flush()
        else:
            print(text)

    def close(self):
        """End the line (a newline in a terminal); the last state stays visible."""
        if self.enabled and self.stream is not None and self.line:
            self.stream.write("\n")
            self.stream.flush()
