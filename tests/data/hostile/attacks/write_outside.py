"""Tries to write everywhere except its own tmp: the runtime, the system, the host's paths."""
import os

for _path in ["/escape.txt", "/opt/escape.txt", "/opt/harness/main.py", "/opt/harness/escape.txt",
              "/opt/site/numpy/__init__.py", "/opt/tinytorch/tinytorch/core/tensor.py", "/usr/escape.txt",
              "/etc/escape.txt", "/dev/escape.txt", "/dev/shm/escape.txt", "/proc/sys/kernel/hostname",
              "/var/tmp/escape.txt", "/work/main/escape.txt", "/tmp/../escape.txt"]:
    try:
        with open(_path, "a") as _handle:
            _handle.write("escaped\n")
        print("HOSTILE: wrote", _path)
    except OSError as _exc:
        print("HOSTILE: denied", _path, type(_exc).__name__)
for _directory in ["/newdir", "/opt/newdir", "/dev/newdir"]:
    try:
        os.mkdir(_directory)
        print("HOSTILE: wrote", _directory)
    except OSError as _exc:
        print("HOSTILE: denied", _directory, type(_exc).__name__)
with open("/tmp/work/allowed.txt", "w") as _handle:
    _handle.write("private tmp is fine")
print("HOSTILE: tmp ok")
