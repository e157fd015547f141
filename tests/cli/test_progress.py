"""The progress line on stderr: silent while there is nothing to report, then what the command is waiting on."""

import threading
import time

import pytest

from grader.cli_progress import waiting_on_stderr


def test_nothing_is_said_while_the_subject_has_not_begun(capsys: pytest.CaptureFixture[str]) -> None:
    """A file still being read and stored ends in an answer of its own: no progress line may come before it."""
    with waiting_on_stderr(lambda: None, quiet_s=0.0, every_s=0.01):
        time.sleep(0.5)
    captured = capsys.readouterr()
    assert captured.err == "" and captured.out == ""


def test_the_line_comes_once_the_subject_has_begun_and_its_clock_starts_then(
        capsys: pytest.CaptureFixture[str]) -> None:
    begun = threading.Event()
    written: list[str] = []
    with waiting_on_stderr(lambda: "grading x.py in the sandbox" if begun.is_set() else None, quiet_s=0.0,
                           every_s=0.01):
        time.sleep(1.2)  # long enough that a clock started at entry would already read 1 s
        begun.set()
        deadline = time.monotonic() + 30
        while not written and time.monotonic() < deadline:
            time.sleep(0.05)
            written.append(capsys.readouterr().err)
            written = [text for text in written if text]
    lines = "".join(written).splitlines()
    assert lines and lines[0] == "grading x.py in the sandbox (0 s)"
    assert capsys.readouterr().out == ""
