"""SQLAlchemy models, one file per aggregate."""

from grader.models.assignment_version import AssignmentVersion, BundleArchive, VersionStatus
from grader.models.base import Base
from grader.models.batch import RegradeBatch
from grader.models.course import ApiToken, Course, CourseAssignment, TokenRole
from grader.models.grading_run import FINISHED, UNFINISHED, GradingRun, ItemResult, RunStatus
from grader.models.lti import LtiLaunch, LtiLoginState, LtiPlatform, LtiSubmissionLink, LtiToolKey
from grader.models.passback import Passback, PassbackChannelName, PassbackReason, PassbackStatus
from grader.models.submission import Submission

__all__ = [
    "FINISHED", "UNFINISHED", "ApiToken", "AssignmentVersion", "Base", "BundleArchive", "Course", "CourseAssignment",
    "GradingRun", "ItemResult",
    "LtiLaunch", "LtiLoginState", "LtiPlatform", "LtiSubmissionLink", "LtiToolKey", "Passback",
    "PassbackChannelName", "PassbackReason", "PassbackStatus", "RegradeBatch", "RunStatus", "Submission",
    "TokenRole", "VersionStatus",
]
