"""What a regrade batch selects; plain enums, so the CLI can offer them as choices without loading the ORM."""

import enum


class Scope(enum.StrEnum):
    """Which submissions of each student are graded again."""

    LATEST = "latest"
    BEST = "best"
    ALL = "all"


class OnlyStatus(enum.StrEnum):
    """`error`: the newest run ended error; `failed`: the current result is short of full marks."""

    ERROR = "error"
    FAILED = "failed"
