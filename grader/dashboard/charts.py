"""Chart geometry for server-rendered SVG: every number is computed here, templates only draw it."""

from dataclasses import dataclass

from grader.services.scores import HistogramBin

WIDTH, HEIGHT = 560.0, 220.0
LEFT, RIGHT, TOP, BOTTOM = 40.0, 10.0, 12.0, 36.0
SPARK_WIDTH, SPARK_HEIGHT, SPARK_PAD = 260.0, 70.0, 8.0


def number(value: float) -> str:
    """Numbers as the markup contract writes them (`f"{x:g}"`)."""
    return f"{value:g}"


@dataclass(frozen=True)
class Bar:
    lower: str
    upper: str
    count: int
    x: float
    y: float
    width: float
    height: float
    label_x: float


@dataclass(frozen=True)
class Histogram:
    """Bars of the API's bins, scaled to the tallest, with a sentence that states every count."""

    bars: list[Bar]
    label: str
    peak: int
    width: float = WIDTH
    height: float = HEIGHT
    baseline: float = HEIGHT - BOTTOM
    left: float = LEFT


def histogram(bins: list[HistogramBin], *, students: int) -> Histogram:
    peak = max((b.count for b in bins), default=0)
    plot_w, plot_h = WIDTH - LEFT - RIGHT, HEIGHT - TOP - BOTTOM
    step = plot_w / max(len(bins), 1)
    bars = []
    for index, b in enumerate(bins):
        height = plot_h * b.count / peak if peak else 0.0
        x = LEFT + index * step
        bars.append(Bar(lower=number(b.lower), upper=number(b.upper), count=b.count, x=round(x + 2, 2),
                        y=round(HEIGHT - BOTTOM - height, 2), width=round(step - 4, 2), height=round(height, 2),
                        label_x=round(x + step / 2, 2)))
    parts = "; ".join(f"{bar.lower} to {bar.upper}: {bar.count}" for bar in bars)
    label = f"Histogram of the current scores of {students} students. Students per score range: {parts}."
    return Histogram(bars=bars, label=label, peak=peak)


@dataclass(frozen=True)
class Point:
    score: str
    run_id: str
    x: float
    y: float


@dataclass(frozen=True)
class Sparkline:
    """The graded runs' scores in order, on a 0..max scale."""

    points: list[Point]
    label: str
    polyline: str
    width: float = SPARK_WIDTH
    height: float = SPARK_HEIGHT


def sparkline(scores: list[tuple[str, float]], *, max_score: float) -> Sparkline:
    """(run id, score) oldest first; a single score sits in the middle."""
    top = max_score or max((score for _, score in scores), default=0.0) or 1.0
    span = SPARK_WIDTH - 2 * SPARK_PAD
    step = span / (len(scores) - 1) if len(scores) > 1 else 0.0
    points = []
    for index, (run_id, score) in enumerate(scores):
        x = SPARK_PAD + index * step if len(scores) > 1 else SPARK_WIDTH / 2
        y = SPARK_HEIGHT - SPARK_PAD - (SPARK_HEIGHT - 2 * SPARK_PAD) * min(max(score / top, 0.0), 1.0)
        points.append(Point(score=number(score), run_id=run_id, x=round(x, 2), y=round(y, 2)))
    history = ", ".join(point.score for point in points) or "none yet"
    label = f"Score history of the graded runs, oldest first, out of {number(max_score)}: {history}."
    return Sparkline(points=points, label=label, polyline=" ".join(f"{p.x},{p.y}" for p in points))
