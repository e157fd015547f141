"""How fast the CLI answers an instructor, as ratios to a floor measured in the same run, beside a base checkout.

Machines here differ by 2x from one day to the next, so every figure is a ratio to the floor: a cold
`python -c "import numpy, matplotlib.pyplot"` (a fresh interpreter each time), measured between the other
commands. Each command is a fresh process, timed wall-clock from spawn to exit, on this checkout and on a base
checkout (default: today's main, commit 1f57844, in /tmp/cli-base), both run by this venv's interpreter with
PYTHONPATH naming the checkout (the same libraries, so the difference is the code), from a working
directory outside both, after writing both checkouts' bytecode as an install would. Runs alternate between the
two so that a change in load hits both.

- `grader --help`
- `grader grade FILE --json`, first call (a fresh GRADER_HOME: the embedded database is created) and later calls
- `grader grade DIR --json` over a folder of N correct files, each carrying its student's name (no two alike);
  per file = the whole command / N. The base has no `grade DIR`: its figure is a loop of `grade FILE` (its later
  call), which is what an instructor would run there.

    git worktree add /tmp/cli-base 1f57844     # once
    .venv/bin/python bench/cli.py --repeats 5 --folder-files 30
"""

import argparse
import json
import os
import shlex
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

REPO = Path(__file__).resolve().parent.parent
SOLUTION = REPO / "grader" / "assignments" / "layers" / "examples" / "student_solution.py"
FLOOR = [sys.executable, "-c", "import numpy, matplotlib.pyplot"]
TARGETS = {"help": 0.25, "grade first": 2.0, "grade later": 2.0, "folder per file": 0.3}


def _env(checkout: Path, home: Path) -> dict[str, str]:
    env = {k: v for k, v in os.environ.items() if not k.startswith("GRADER_") and k != "PYTHONPATH"}
    env.update(PYTHONPATH=str(checkout), GRADER_HOME=str(home), COLUMNS="120")
    return env


def _timed(argv: list[str], env: dict[str, str] | None = None, expect: tuple[int, ...] = (0,)) -> float:
    started = time.perf_counter()
    completed = subprocess.run(argv, env=env, capture_output=True, text=True, timeout=600)
    elapsed = time.perf_counter() - started
    if completed.returncode not in expect:
        raise SystemExit(f"{shlex.join(argv)} exited {completed.returncode}: {completed.stderr[-2000:]}")
    return elapsed


def _grader(*args: str) -> list[str]:
    return [sys.executable, "-m", "grader", *args]


def _check_checkout(checkout: Path, home: Path) -> str:
    """The grader the checkout's PYTHONPATH really imports (a wrong path would measure this checkout twice)."""
    probe = subprocess.run([sys.executable, "-c", "import grader; print(grader.__file__)"], env=_env(checkout, home),
                           capture_output=True, text=True, check=True)
    found = Path(probe.stdout.strip()).resolve()
    if not found.is_relative_to(checkout.resolve()):
        raise SystemExit(f"PYTHONPATH={checkout} imports {found}, not that checkout")
    return str(found.parent)


def _compile(checkout: Path) -> None:
    """Bytecode for the checkout's own modules, as an install writes it: a shell with PYTHONDONTWRITEBYTECODE
    (or an editable install never run before) would otherwise measure compiling 200 modules on every command."""
    packages = [str(checkout / name) for name in ("grader", "tinytorch_ref", "workers", "migrations")
                if (checkout / name).is_dir()]
    subprocess.run([sys.executable, "-m", "compileall", "-q", *packages], check=True, capture_output=True)


def _folder(root: Path, files: int) -> Path:
    folder = root / "download"
    folder.mkdir()
    text = SOLUTION.read_text(encoding="utf-8")
    for index in range(files):
        (folder / f"student{index:03d}_layers_dev.py").write_text(f"# student {index:03d}\n{text}", encoding="utf-8")
    return folder


class Side:
    """One checkout's measurements; each list holds seconds of fresh processes."""

    def __init__(self, name: str, checkout: Path, root: Path) -> None:
        self.name, self.checkout, self.root = name, checkout, root / name
        self.root.mkdir()
        self.figures: dict[str, list[float]] = {key: [] for key in TARGETS}
        self.homes = 0
        self.later_home = self._home()
        self.imports = _check_checkout(checkout, self.later_home)

    def _home(self) -> Path:
        self.homes += 1
        home = self.root / f"home{self.homes}"
        home.mkdir()
        return home

    def run(self, key: str, argv: list[str], home: Path | None = None, expect: tuple[int, ...] = (0,)) -> None:
        self.figures[key].append(_timed(argv, _env(self.checkout, home or self.later_home), expect))


def _median_ratio(values: list[float], floors: list[float]) -> tuple[float, float]:
    return statistics.median(values), statistics.median(values) / statistics.median(floors)


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    parser.add_argument("--base", type=Path, default=Path("/tmp/cli-base"), help="checkout to compare with")
    parser.add_argument("--repeats", type=int, default=5, help="runs of each single-process figure per side")
    parser.add_argument("--folder-files", type=int, default=30)
    args = parser.parse_args()
    if not (args.base / "grader" / "cli.py").exists():
        raise SystemExit(f"no checkout at {args.base}: git worktree add {args.base} 1f57844")
    floors: list[float] = []
    with tempfile.TemporaryDirectory(prefix="bench-cli-") as tmp:
        root = Path(tmp)
        os.chdir(root)  # `python -m` and `-c` put the working directory first on sys.path: no checkout there
        sides = [Side("base", args.base, root), Side("this", REPO, root)]
        folder = _folder(root, args.folder_files)
        load_before = os.getloadavg()
        for side in sides:  # stage each side's sandbox runtime and database once, outside the figures
            _compile(side.checkout)
            _timed(_grader("grade", str(SOLUTION), "--json"), _env(side.checkout, side.later_home))
        for _ in range(args.repeats):
            for side in sides:
                floors.append(_timed(FLOOR))
                side.run("help", _grader("--help"))
                side.run("grade first", _grader("grade", str(SOLUTION), "--json"), home=side._home())
                side.run("grade later", _grader("grade", str(SOLUTION), "--json"))
        this = sides[1]
        for _ in range(max(1, args.repeats // 3)):
            floors.append(_timed(FLOOR))
            started = time.perf_counter()
            this.run("folder per file", _grader("grade", str(folder), "--json"))
            this.figures["folder per file"][-1] = (time.perf_counter() - started) / args.folder_files
        sides[0].figures["folder per file"] = list(sides[0].figures["grade later"])
        load_after = os.getloadavg()
    _report(sides, floors, args, load_before, load_after)


def _report(sides: list[Side], floors: list[float], args: argparse.Namespace, before: tuple[float, ...],
            after: tuple[float, ...]) -> None:
    print(f"command: {shlex.join([sys.executable, *sys.argv])}")
    print(f"load average before {before[0]:.2f}, after {after[0]:.2f}; {os.cpu_count()} CPUs")
    print(f"floor (cold python -c 'import numpy, matplotlib.pyplot'): median {statistics.median(floors):.2f} s "
          f"over {len(floors)} runs (min {min(floors):.2f}, max {max(floors):.2f})")
    for side in sides:
        print(f"{side.name}: {side.imports}")
    print(f"{'figure':48} {'base s':>8} {'base x':>7} {'this s':>8} {'this x':>7} {'target':>7}")
    summary = {}
    for key, target in TARGETS.items():
        base_s, base_x = _median_ratio(sides[0].figures[key], floors)
        this_s, this_x = _median_ratio(sides[1].figures[key], floors)
        verdict = "ok" if this_x <= target else "MISSED"
        name = key + (" (base: a loop of grade FILE)" if key == "folder per file" else "")
        print(f"{name:48} {base_s:8.2f} {base_x:7.2f} {this_s:8.2f} {this_x:7.2f} {'<=' + str(target):>7} "
              f"{verdict}")
        summary[key] = {"base_x": round(base_x, 3), "this_x": round(this_x, 3), "target_x": target}
    print(json.dumps({"floor_s": round(statistics.median(floors), 3), "figures": summary,
                      "folder_files": args.folder_files, "repeats": args.repeats}))


if __name__ == "__main__":
    main()
