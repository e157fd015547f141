"""SQLAlchemy models, one file per aggregate."""

from grader.models.base import Base
from grader.models.grading_run import GradingRun, ItemResult, RunStatus
from grader.models.submission import Submission

__all__ = ["Base", "GradingRun", "ItemResult", "RunStatus", "Submission"]
