"""Prints about 200 MB to stdout and some to stderr: it must finish quickly, with the capture truncated."""
import sys

_chunk = "flood " * 10_000 + "\n"
for _ in range(3_400):
    sys.stdout.write(_chunk)
for _ in range(100):
    sys.stderr.write(_chunk)
sys.stdout.flush()
