"""An uploaded version's way through the check: stored and queued by the API, checked and settled by a worker.

The API stores an upload as a `checking` version and never runs the sandbox (it is unprivileged); the worker
checks it and settles it (grader.services.assignment_versions.check_stored_version). A version that is no longer
`checking` is left alone, so at-least-once delivery and the sweeper's re-sends never settle a version twice.
"""

import logging

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.db import session_scope
from grader.errors import BundleTooLarge
from grader.logs import log_event
from grader.models import AssignmentVersion, VersionStatus
from grader.sandbox.runner import limits_from_settings
from grader.services.assignment_versions import check_stored_version, store_upload
from grader.services.jobs import JobContext
from grader.services.queueing import queue_check

logger = logging.getLogger(__name__)


def check_queued_version(context: JobContext, version_id: str) -> bool:
    """True if this call settled the version (published, forced or rejected); False if it was already settled."""
    settled = check_stored_version(context.factory, runner=context.runner(), version_id=version_id,
                                   limits=limits_from_settings(context.settings))
    if settled is None:
        log_event(logger, "check_skipped", version_id=version_id, reason="not checking")
        return False
    log_event(logger, "version_checked", version_id=version_id, status=settled.status, forced=settled.forced)
    return True


def reject_unchecked(session: Session, *, version_id: str) -> AssignmentVersion | None:
    """End a `checking` version `rejected` with no report (its check could not run); any other is left alone."""
    version = session.scalar(select(AssignmentVersion).where(AssignmentVersion.id == version_id).with_for_update())
    if version is None or version.status != VersionStatus.CHECKING:
        return None
    version.status = VersionStatus.REJECTED
    session.flush()
    return version


def give_up_check(context: JobContext, version_id: str, reason: str) -> bool:
    """After the last retry, or on a bug: the version ends `rejected` (the cause is logged), never stuck
    `checking`, so the sweeper does not re-send a check that cannot run."""
    with session_scope(context.factory) as session:
        rejected = reject_unchecked(session, version_id=version_id)
    if rejected is None:
        return False
    log_event(logger, "check_gave_up", level=logging.WARNING, version_id=version_id, reason=reason)
    return True


def store_for_check(session: Session, *, course: str, bundle_bytes: bytes, archive_name: str, published_by: str,
                    force: bool, max_bytes: int) -> AssignmentVersion:
    """The API's half: store the upload as a `checking` version (nothing at all if it is too large or does not
    load) and send it to the workers' check once that is committed. Content already published is not checked
    again."""
    if len(bundle_bytes) > max_bytes:
        raise BundleTooLarge(f"the archive is over the {max_bytes // 1024} KiB limit", file=archive_name or "upload")
    version = store_upload(session, course=course, bundle_bytes=bundle_bytes, archive_name=archive_name,
                           published_by=published_by, force=force)
    if version.status == VersionStatus.CHECKING:
        queue_check(session, version)
        session.flush()
        log_event(logger, "check_queued", version_id=version.id, course=course, assignment=version.assignment,
                  forced=force)
    return version
