"""Benchmark of the two sandbox paths: the same realistic mix of submissions graded cold and warm, side by side.

Submissions alternate between the paths (cold, warm, cold, warm, ...; then warm only once the cold quota is
done), so load from anything else on the machine lands on both alike. It prints per-submission sandbox CPU,
host CPU (building the job, judging, scoring) and wall (p50/p95/mean), submissions per second, the RSS of this
process (the worker) and of the warm sandbox over the run, the warm/cold ratios, and the command to reproduce.
"""

import argparse
import dataclasses
import random
import resource
import shlex
import statistics
import sys
import time
from dataclasses import dataclass, field
from pathlib import Path
from typing import Any

from grader.assignments.bundle import AssignmentBundle, load_assignment
from grader.config import SandboxSettings, Settings
from grader.sandbox.job import SandboxLimits
from grader.sandbox.runner import SandboxRunner, limits_from_settings, make_runner
from grader.services.evaluate import evaluate

REPO = Path(__file__).resolve().parent.parent
TIMEOUT_LIMITS: dict[str, Any] = {"per_test_cpu_s": 1.0, "per_test_wall_s": 3.0}
# (file, share of the batch in percent, limit overrides): a class's batch regrade, timeouts included.
MIX: list[tuple[str, int, dict[str, Any]]] = [
    ("grader/assignments/layers/examples/student_solution.py", 30, {}),
    ("tests/data/hostile/honest.py", 20, {}),
    ("tests/data/hostile/honest_wrong_matmul.py", 10, {}),
    ("tests/data/hostile/honest_saturating_dense.py", 8, {}),
    ("tests/data/submissions/missing_shape_check.py", 8, {}),
    ("tests/data/submissions/bias_ignored.py", 8, {}),
    ("tests/data/submissions/wrong_matmul_index.py", 7, {}),
    ("tests/data/submissions/syntax_error.py", 4, {}),
    ("tests/data/submissions/release.py", 4, {}),
    ("tests/data/hostile/loop_in_solution.py", 1, TIMEOUT_LIMITS),
]


@dataclass
class PathFigures:
    """What one path measured, one entry per submission."""

    sandbox_cpu_s: list[float] = field(default_factory=list)
    host_cpu_s: list[float] = field(default_factory=list)
    wall_s: list[float] = field(default_factory=list)
    children_cpu_s: float = 0.0
    scores: list[float] = field(default_factory=list)
    entries: list[int] = field(default_factory=list)


def rss_mib(pid: int | str = "self") -> float:
    try:
        for line in Path(f"/proc/{pid}/status").read_text().splitlines():
            if line.startswith("VmRSS:"):
                return int(line.split()[1]) / 1024
    except OSError:
        pass
    return 0.0


def children_cpu() -> float:
    usage = resource.getrusage(resource.RUSAGE_CHILDREN)
    return usage.ru_utime + usage.ru_stime


def sequence(count: int, seed: int) -> list[int]:
    """Indices into MIX with the mix's shares, in a fixed shuffled order (whole blocks of 100)."""
    block = [index for index, (_, share, _) in enumerate(MIX) for _ in range(share)]
    order: list[int] = []
    rng = random.Random(seed)
    while len(order) < count:
        rng.shuffle(block)
        order += block
    return order[:count]


def grade_one(bundle: AssignmentBundle, runner: SandboxRunner, limits: SandboxLimits, entry: int,
              figures: PathFigures) -> None:
    path, _, overrides = MIX[entry]
    content = (REPO / path).read_bytes()
    run_limits = dataclasses.replace(limits, **overrides)
    children, host, started = children_cpu(), time.process_time(), time.monotonic()
    evaluation = evaluate(bundle, content, "layers_dev.py", runner, run_limits, max_bytes=512 * 1024)
    figures.wall_s.append(time.monotonic() - started)
    figures.host_cpu_s.append(time.process_time() - host)
    figures.children_cpu_s += children_cpu() - children
    figures.sandbox_cpu_s.append(evaluation.result.cpu_s)
    figures.scores.append(evaluation.score.total)
    figures.entries.append(entry)


def percentile(values: list[float], share: float) -> float:
    ordered = sorted(values)
    return ordered[min(len(ordered) - 1, int(share * len(ordered)))] if ordered else 0.0


def summary(figures: PathFigures) -> dict[str, float]:
    count = len(figures.wall_s)
    return {
        "n": count,
        "sandbox_cpu_p50": percentile(figures.sandbox_cpu_s, 0.5),
        "sandbox_cpu_p95": percentile(figures.sandbox_cpu_s, 0.95),
        "sandbox_cpu_mean": figures.children_cpu_s / count if count else 0.0,
        "host_cpu_p50": percentile(figures.host_cpu_s, 0.5), "host_cpu_mean": statistics.fmean(figures.host_cpu_s),
        "wall_p50": percentile(figures.wall_s, 0.5), "wall_p95": percentile(figures.wall_s, 0.95),
        "per_s": count / sum(figures.wall_s) if count else 0.0,
    }


def print_table(rows: dict[str, dict[str, float]]) -> None:
    ms = 1000.0
    print(f"{'path':<6}{'n':>6}  {'sandbox CPU ms p50/p95/mean':>28}  {'host CPU ms p50/mean':>21}  "
          f"{'wall ms p50/p95':>16}  {'subs/s':>7}")
    for name, row in rows.items():
        cpu = f"{row['sandbox_cpu_p50'] * ms:.0f}/{row['sandbox_cpu_p95'] * ms:.0f}/{row['sandbox_cpu_mean'] * ms:.1f}"
        host = f"{row['host_cpu_p50'] * ms:.0f}/{row['host_cpu_mean'] * ms:.1f}"
        wall = f"{row['wall_p50'] * ms:.0f}/{row['wall_p95'] * ms:.0f}"
        print(f"{name:<6}{row['n']:>6}  {cpu:>28}  {host:>21}  {wall:>16}  {row['per_s']:>7.2f}")


def print_ratios(cold: dict[str, float], warm: dict[str, float]) -> None:
    def ratio(key: str) -> str:
        return f"{cold[key] / warm[key]:.1f}x" if warm[key] else "n/a"

    print(f"cold/warm: sandbox CPU mean {ratio('sandbox_cpu_mean')}, p50 {ratio('sandbox_cpu_p50')}; "
          f"wall p50 {ratio('wall_p50')}, p95 {ratio('wall_p95')}; "
          f"throughput warm/cold {warm['per_s'] / cold['per_s']:.1f}x")


def print_kinds(figures: dict[str, PathFigures]) -> None:
    """Mean sandbox CPU per kind of submission (the runner's per-job measure: its 10 ms ticks average out)."""
    parts = []
    for index, (path, _, _) in enumerate(MIX):
        means = []
        for name in ("cold", "warm"):
            values = [cpu for cpu, entry in zip(figures[name].sandbox_cpu_s, figures[name].entries, strict=True)
                      if entry == index]
            means.append(f"{statistics.fmean(values) * 1000:.0f}" if values else "-")
        parts.append(f"{Path(path).stem} {means[0]}/{means[1]}")
    print("sandbox CPU ms by kind, cold/warm:", "; ".join(parts))


def warm_rss(runner: SandboxRunner) -> float:
    pids: list[int] = getattr(runner, "resident_pids", list)()
    return sum(rss_mib(pid) for pid in pids[1:])


def run(args: argparse.Namespace) -> None:
    settings = Settings()
    bundle, limits = load_assignment("layers"), limits_from_settings(settings)
    cold = make_runner(Settings(sandbox=SandboxSettings(pool="cold")))
    warm = make_runner(Settings(sandbox=SandboxSettings(pool="warm")))
    figures = {"cold": PathFigures(), "warm": PathFigures()}
    grade_one(bundle, warm, limits, 0, PathFigures())
    rss_start, sandbox_start, series = rss_mib(), warm_rss(warm), []
    order = sequence(args.submissions, args.seed)
    for number, entry in enumerate(order):
        if number < args.cold_submissions:
            grade_one(bundle, cold, limits, entry, figures["cold"])
        grade_one(bundle, warm, limits, entry, figures["warm"])
        if (number + 1) % max(1, args.submissions // 10) == 0:
            series.append(f"{number + 1}:{rss_mib():.0f}+{warm_rss(warm):.0f}")
    rss_end, sandbox_end = rss_mib(), warm_rss(warm)
    closing = children_cpu()
    getattr(warm, "close", lambda: None)()
    figures["warm"].children_cpu_s += children_cpu() - closing
    report(args, figures, (rss_start, rss_end, sandbox_start, sandbox_end), series, order)


def report(args: argparse.Namespace, figures: dict[str, PathFigures], rss: tuple[float, ...], series: list[str],
           order: list[int]) -> None:
    rows = {name: summary(value) for name, value in figures.items()}
    paired = min(len(figures["cold"].scores), len(figures["warm"].scores))
    differ = sum(1 for a, b in zip(figures["cold"].scores, figures["warm"].scores[:paired], strict=True) if a != b)
    timeouts = sum(1 for entry in order if MIX[entry][2])
    print(f"mix: {', '.join(f'{Path(p).stem} {s}%' for p, s, _ in MIX)}; {timeouts} timeout submission(s) in "
          f"{len(order)}")
    print_table(rows)
    print_ratios(rows["cold"], rows["warm"])
    print_kinds(figures)
    print("sandbox CPU mean: every sandbox process, exact (rusage of the reaped sandboxes); p50/p95: the runner's "
          "own per-job measure (warm: /proc of PID 1 and the zygote, 10 ms ticks)")
    print(f"scores equal on both paths for {paired - differ} of {paired} paired submissions")
    print(f"worker RSS {rss[0]:.0f} -> {rss[1]:.0f} MiB; warm sandbox (PID 1 + zygote) RSS {rss[2]:.0f} -> "
          f"{rss[3]:.0f} MiB over {len(order)} warm jobs; series (job:worker+sandbox MiB) {' '.join(series)}")
    print("reproduce:", shlex.join([".venv/bin/python", "bench/sandbox_paths.py", *sys.argv[1:]]))


def main(argv: list[str] | None = None) -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--submissions", type=int, default=300, help="warm submissions (the RSS series covers them)")
    parser.add_argument("--cold-submissions", type=int, default=100, help="cold submissions, paired with the first "
                                                                           "warm ones")
    parser.add_argument("--seed", type=int, default=7, help="order of the mix")
    run(parser.parse_args(argv))


if __name__ == "__main__":
    main()
