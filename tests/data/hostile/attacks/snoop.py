"""Reads everything interesting it can find: secrets, the project tree, the answer key, the environment."""
import os


def _peek(path: str) -> str:
    try:
        if os.path.isdir(path):
            return "dir " + ",".join(sorted(os.listdir(path))[:40])
        with open(path, "rb") as handle:
            return "file " + handle.read(300).decode("utf-8", "replace")
    except OSError as exc:
        return f"denied ({type(exc).__name__})"


for _path in ["/etc/shadow", "/etc/passwd", "/root", "/home", "/work", "/work/main", "/var/tmp",
              "/var/tmp/tinytorch-grader-runtime", "/proc/1/environ", "/proc/2/environ", "/proc/self/environ",
              "/proc/1/cmdline", "/proc/2/cmdline", "/run/postgresql", "/sys", "/opt", "/opt/tinytorch/tinytorch/core"]:
    print("HOSTILE:", _path, _peek(_path))
print("HOSTILE: environ", dict(os.environ))
_found = []
for _root, _dirs, _files in os.walk("/"):
    if _root.startswith(("/proc", "/dev", "/sys")):
        _dirs[:] = []
        continue
    _found += [os.path.join(_root, _f) for _f in _files + _dirs
               if _f in ANSWER_FILES]
print("HOSTILE: found", sorted(_found))
