"""A line on stderr while a command waits, so a slow grade is never a silent terminal; stdout stays the answer."""

import sys
import threading
import time
from collections.abc import Callable, Iterator
from contextlib import contextmanager

from grader.cli_text import printable

QUIET_S = 3.0
EVERY_S = 10.0
WATCH_S = 0.1


@contextmanager
def waiting_on_stderr(describe: Callable[[], str | None], *, quiet_s: float = QUIET_S,
                      every_s: float = EVERY_S) -> Iterator[None]:
    """After `quiet_s`, say what is happening and for how long: one line rewritten in place on a terminal, a line
    every `every_s` otherwise (a log). Nothing is written for work that ends sooner, and never to stdout.

    `describe` answers None while there is nothing to report yet (a file still being read and stored, which ends
    in a one-line answer of its own): the quiet period and the clock start when it first has something to say."""
    stream = sys.stderr
    in_place = stream.isatty()
    stop = threading.Event()
    wrote = False

    def report() -> None:
        nonlocal wrote
        while describe() is None:
            if stop.wait(WATCH_S):
                return
        started = time.monotonic()
        if stop.wait(quiet_s):
            return
        while True:
            line = printable(f"{describe()} ({time.monotonic() - started:.0f} s)")
            stream.write(f"\r\x1b[K{line}" if in_place else f"{line}\n")
            stream.flush()
            wrote = True
            if stop.wait(1.0 if in_place else every_s):
                return

    reporter = threading.Thread(target=report, name="grader-progress", daemon=True)
    reporter.start()
    try:
        yield
    finally:
        stop.set()
        reporter.join()
        if wrote and in_place:
            stream.write("\r\x1b[K")
            stream.flush()
