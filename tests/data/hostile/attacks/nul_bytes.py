"""Writes NUL bytes and invalid UTF-8 to stdout and stderr and raises with a NUL and a lone surrogate in the message:
text PostgreSQL refuses to store, which must not stop the run from being stored."""
import os

os.write(1, b"nul \x00 bytes \xff\xfe and invalid utf-8\n")
os.write(2, b"\x00\x00\x00\n")
raise RuntimeError("a NUL \x00 and a lone surrogate \udcff in the message")
