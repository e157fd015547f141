"""The closed verdict vocabulary and the trusted verdict of one rubric item."""

from dataclasses import dataclass
from typing import Literal

Status = Literal["passed", "failed", "error", "timeout", "memory", "skipped"]
STATUSES: tuple[Status, ...] = ("passed", "failed", "error", "timeout", "memory", "skipped")


@dataclass(frozen=True)
class Verdict:
    """What the trusted side decided about one item: `message` is for the student, `detail` for staff.

    `limit` names the limit behind a `timeout`: "cpu" (CPU time, which machine load does not change) or "wall".
    """

    item_id: str
    status: Status
    message: str = ""
    detail: str = ""
    limit: Literal["", "cpu", "wall"] = ""
