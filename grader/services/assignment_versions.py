"""Assignment versions of a course: store an upload, settle its check, publish in one go, list, move current.

A version is immutable content (a bundle archive by content hash) plus the check that decided it. Only a
published version is ever current or grades anything; every change of what a course grades is one transaction.
"""

import logging
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any, Protocol

from sqlalchemy import func, select
from sqlalchemy.exc import IntegrityError
from sqlalchemy.orm import Session, sessionmaker

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.registry import find_assignment
from grader.assignments.stored import PreparedVersion, prepare_version
from grader.config import get_settings
from grader.db import session_scope
from grader.errors import CheckFailed, Conflict, NotFound
from grader.logs import log_event
from grader.models import AssignmentVersion, BundleArchive, CourseAssignment, VersionStatus
from grader.models.base import utcnow
from grader.services.bundles import bundle_by_hash, current_bundle
from grader.services.courses import get_course

logger = logging.getLogger(__name__)


class CheckOutcome(Protocol):
    """What settling needs of a check report (grader.assignments.check_report.CheckReport)."""

    passed: bool

    def to_json(self) -> dict[str, Any]: ...


CheckFn = Callable[..., Any]


@dataclass(frozen=True)
class AssignmentCurrent:
    """An assignment of a course and what it grades with now (`version` None: the shipped bundle)."""

    assignment: str
    title: str
    version: AssignmentVersion | None
    rubric_version: str
    max_score: float
    published_versions: int


def _max_bytes() -> int:
    return get_settings().bundle_max_kib * 1024


def _make_current(session: Session, version: AssignmentVersion) -> None:
    link = session.scalar(select(CourseAssignment).where(CourseAssignment.course_id == version.course_id,
                                                         CourseAssignment.assignment == version.assignment)
                          .with_for_update())
    if link is None:
        link = CourseAssignment(course_id=version.course_id, assignment=version.assignment)
        session.add(link)
    link.version_id = version.id
    session.flush()


def _insert(session: Session, *, course: str, prepared: PreparedVersion, published_by: str,
            force: bool) -> AssignmentVersion:
    bundle = prepared.bundle
    with session.begin_nested():
        if session.get(BundleArchive, prepared.content_hash) is None:
            session.add(BundleArchive(content_hash=prepared.content_hash, data=prepared.data,
                                      size=len(prepared.data)))
            session.flush()  # the version's foreign key needs the archive row first
        version = AssignmentVersion(course_id=course, assignment=bundle.name, content_hash=prepared.content_hash,
                                    rubric_version=bundle.rubric.version, title=bundle.title[:255],
                                    status=VersionStatus.CHECKING, forced=force, published_by=published_by[:255])
        session.add(version)
        session.flush()
    return version


def _existing(session: Session, course: str, prepared: PreparedVersion) -> AssignmentVersion | None:
    return session.scalar(select(AssignmentVersion).where(
        AssignmentVersion.course_id == course, AssignmentVersion.assignment == prepared.bundle.name,
        AssignmentVersion.content_hash == prepared.content_hash).with_for_update())


def _again(session: Session, version: AssignmentVersion, *, published_by: str, force: bool) -> AssignmentVersion:
    """The same content uploaded again: a published version becomes current again (it was checked); any other
    is checked afresh under the new request."""
    if version.status == VersionStatus.PUBLISHED:
        _make_current(session, version)
        return version
    version.status, version.forced, version.check_report = VersionStatus.CHECKING, force, None
    version.published_by, version.created_at = published_by[:255], utcnow()
    session.flush()
    return version


def store_prepared(session: Session, *, course: str, prepared: PreparedVersion, published_by: str,
                   force: bool) -> AssignmentVersion:
    """Store a prepared bundle as a version of the course in `checking` (or its existing row)."""
    get_course(session, course)
    existing = _existing(session, course, prepared)
    if existing is not None:
        return _again(session, existing, published_by=published_by, force=force)
    try:
        version = _insert(session, course=course, prepared=prepared, published_by=published_by, force=force)
    except IntegrityError:  # a concurrent identical upload won the unique key
        existing = _existing(session, course, prepared)
        if existing is None:
            raise
        return _again(session, existing, published_by=published_by, force=force)
    log_event(logger, "assignment_version_stored", version_id=version.id, course=course,
              assignment=version.assignment, content_hash=version.content_hash, forced=force)
    return version


def store_upload(session: Session, *, course: str, bundle_bytes: bytes, archive_name: str, published_by: str,
                 force: bool) -> AssignmentVersion:
    """An uploaded archive stored as a version in `checking`; BundleInvalid / BundleTooLarge / NotFound before
    anything is added to the session. The caller queues its check after commit."""
    get_course(session, course)
    prepared = prepare_version(bundle_bytes, archive_name=archive_name, max_bytes=_max_bytes())
    return store_prepared(session, course=course, prepared=prepared, published_by=published_by, force=force)


def settle_check(session: Session, *, version_id: str, report: CheckOutcome) -> AssignmentVersion | None:
    """The check's verdict, once: published and current (check passed, or forced), or rejected. A version no
    longer `checking` (a duplicate message) is returned unchanged."""
    version = session.scalar(select(AssignmentVersion).where(AssignmentVersion.id == version_id)
                             .with_for_update())
    if version is None or version.status != VersionStatus.CHECKING:
        return version
    version.check_report = report.to_json()
    if report.passed or version.forced:
        version.status, version.published_at = VersionStatus.PUBLISHED, utcnow()
        _make_current(session, version)
    else:
        version.status = VersionStatus.REJECTED
    session.flush()
    log_event(logger, "assignment_version_settled", version_id=version.id, status=version.status,
              passed=report.passed, forced=version.forced)
    return version


def _check_fn(check: CheckFn | None) -> CheckFn:
    if check is not None:
        return check
    from grader.services.check import check_bundle

    return check_bundle


def check_stored_version(factory: sessionmaker[Session], *, runner: Any, version_id: str, limits: Any = None,
                         check: CheckFn | None = None) -> AssignmentVersion | None:
    """The check task's body: check a `checking` version outside any transaction, then settle it in one.
    A version not `checking` (settled by a duplicate message) is left alone: None, no sandbox."""
    with session_scope(factory) as session:
        version = session.get(AssignmentVersion, version_id)
        if version is None or version.status != VersionStatus.CHECKING:
            return None
        bundle = bundle_by_hash(session, version.content_hash)
    report = _check_fn(check)(bundle, runner=runner, limits=limits)
    with session_scope(factory) as session:
        return settle_check(session, version_id=version_id, report=report)


def _failure(bundle: AssignmentBundle, report: Any) -> CheckFailed:
    scores = ", ".join(f"{score:g}" for score in getattr(report, "solution_scores", []))
    parts = [f"the solution scores {scores or '?'} of {bundle.rubric.max_score:g}"]
    for label, attribute in (("flaky", "flaky"), ("tests nothing", "tests_nothing")):
        ids = getattr(report, attribute, [])
        if ids:
            parts.append(f"{label}: {', '.join(ids)}")
    return CheckFailed(f"the check of {bundle.name} failed ({'; '.join(parts)}); nothing was published. Fix the "
                       "bundle, or publish with --force to publish it anyway (recorded on the version)",
                       report=report)


def publish_now(factory: sessionmaker[Session], *, runner: Any, course: str, source: Path | bytes,
                archive_name: str = "", published_by: str, force: bool, limits: Any = None,
                check: CheckFn | None = None) -> tuple[AssignmentVersion, Any]:
    """The CLI's publish: load and check outside any transaction, then store and settle in one. A check that
    fails without `force` raises CheckFailed and writes nothing."""
    with session_scope(factory) as session:
        get_course(session, course)
    prepared = prepare_version(source, archive_name=archive_name, max_bytes=_max_bytes())
    report = _check_fn(check)(prepared.bundle, runner=runner, limits=limits)
    if not report.passed and not force:
        raise _failure(prepared.bundle, report)
    with session_scope(factory) as session:
        version = store_prepared(session, course=course, prepared=prepared, published_by=published_by,
                                 force=force)
        settled = settle_check(session, version_id=version.id, report=report) or version
    return settled, report


def list_assignments(session: Session, *, course: str) -> list[AssignmentCurrent]:
    """Every assignment of the course with what it grades with now."""
    get_course(session, course)
    links = session.scalars(select(CourseAssignment).where(CourseAssignment.course_id == course)
                            .order_by(CourseAssignment.assignment)).all()
    counts = dict(session.execute(
        select(AssignmentVersion.assignment, func.count()).where(
            AssignmentVersion.course_id == course, AssignmentVersion.status == VersionStatus.PUBLISHED)
        .group_by(AssignmentVersion.assignment)).all())
    rows = []
    for link in links:
        bundle = current_bundle(session, course, link.assignment)
        version = session.get(AssignmentVersion, link.version_id) if link.version_id else None
        rows.append(AssignmentCurrent(assignment=link.assignment, title=bundle.title, version=version,
                                      rubric_version=bundle.rubric.version, max_score=bundle.rubric.max_score,
                                      published_versions=counts.get(link.assignment, 0)))
    return rows


def versions(session: Session, *, course: str, assignment: str) -> list[AssignmentVersion]:
    """Every upload of the assignment to the course, newest first (a course may have uploads of an assignment it
    does not grade yet: each was rejected or is being checked)."""
    get_course(session, course)
    rows = list(session.scalars(select(AssignmentVersion).where(
        AssignmentVersion.course_id == course, AssignmentVersion.assignment == assignment)
        .order_by(AssignmentVersion.created_at.desc(), AssignmentVersion.id)))
    if not rows and session.get(CourseAssignment, (course, assignment)) is None:
        raise NotFound(f"course {course!r} has no assignment {assignment!r}")
    return rows


def get_version(session: Session, *, course: str, version_id: str) -> AssignmentVersion:
    """A version of this course; another course's is not found (its existence is not told)."""
    version = session.get(AssignmentVersion, version_id)
    if version is None or version.course_id != course:
        raise NotFound(f"course {course!r} has no assignment version {version_id!r}")
    return version


def current_version_id(session: Session, *, course: str, assignment: str) -> str | None:
    """The version the course grades the assignment with (None: the shipped bundle, or it grades none yet)."""
    link = session.get(CourseAssignment, (course, assignment))
    return None if link is None else link.version_id


def set_current(session: Session, *, course: str, assignment: str, version_id: str | None) -> CourseAssignment:
    """Grade the assignment with one of its published versions from now on, or (None) with the shipped bundle."""
    link = session.scalar(select(CourseAssignment).where(CourseAssignment.course_id == course,
                                                         CourseAssignment.assignment == assignment)
                          .with_for_update())
    if link is None:
        raise NotFound(f"course {course!r} has no assignment {assignment!r}")
    if version_id is None:
        try:
            find_assignment(assignment)
        except NotFound as exc:
            raise NotFound(f"no shipped bundle is named {assignment!r}; choose one of its published versions") \
                from exc
    else:
        version = get_version(session, course=course, version_id=version_id)
        if version.assignment != assignment:
            raise NotFound(f"version {version_id} is of {version.assignment!r}, not {assignment!r}")
        if version.status != VersionStatus.PUBLISHED:
            raise Conflict(f"version {version_id} is {version.status}; only a published version can be current")
    link.version_id = version_id
    session.flush()
    log_event(logger, "assignment_version_current", course=course, assignment=assignment, version_id=version_id)
    return link
