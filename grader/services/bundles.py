"""Which bundle grades a course's submission: the course's published version, else the shipped bundle.

A stored version is loaded from its archive bytes in the database and kept in a small per-process cache keyed by
content hash, so a long-running worker grades with a version published a moment ago, without a restart, and
never loads the same version twice while it is in use.
"""

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.loader import load_bundle_bytes
from grader.assignments.registry import find_assignment
from grader.config import get_settings
from grader.errors import NotFound
from grader.models import AssignmentVersion, BundleArchive, CourseAssignment, GradingRun, VersionStatus

_CACHE: OrderedDict[str, AssignmentBundle] = OrderedDict()
_LOCK = threading.Lock()


def archive_name(content_hash: str) -> str:
    """How a stored version's files are named in errors and tracebacks."""
    return f"version-{content_hash[:12]}.tar.gz"


def _remember(content_hash: str, bundle: AssignmentBundle) -> AssignmentBundle:
    with _LOCK:
        kept = _CACHE.setdefault(content_hash, bundle)
        _CACHE.move_to_end(content_hash)
        while len(_CACHE) > get_settings().bundle_cache_size:
            _CACHE.popitem(last=False)
        return kept


def cached_hashes() -> list[str]:
    """The content hashes loaded in this process, least recently used first."""
    with _LOCK:
        return list(_CACHE)


def clear_bundle_cache() -> None:
    with _LOCK:
        _CACHE.clear()


def bundle_by_hash(session: Session, content_hash: str) -> AssignmentBundle:
    """The stored bundle with this content hash, loaded once per process while it stays among the recent ones."""
    with _LOCK:
        bundle = _CACHE.get(content_hash)
        if bundle is not None:
            _CACHE.move_to_end(content_hash)
            return bundle
    data = session.scalar(select(BundleArchive.data).where(BundleArchive.content_hash == content_hash))
    if data is None:
        raise NotFound(f"no stored bundle {content_hash}")
    return _remember(content_hash, load_bundle_bytes(data, name=archive_name(content_hash)))


def current_bundle(session: Session, course: str, assignment: str) -> AssignmentBundle:
    """What the course grades `assignment` with now: its current published version, or the shipped bundle."""
    link = session.get(CourseAssignment, (course, assignment))
    if link is None:
        raise NotFound(f"course {course!r} has no assignment {assignment!r}")
    if link.version_id is None:
        return find_assignment(assignment)
    content_hash = session.scalar(select(AssignmentVersion.content_hash)
                                  .where(AssignmentVersion.id == link.version_id))
    if content_hash is None:
        raise NotFound(f"the current version {link.version_id} of {assignment!r} is gone")
    return bundle_by_hash(session, content_hash)


def _shipped_with(assignment: str, rubric_version: str) -> AssignmentBundle | None:
    try:
        bundle = find_assignment(assignment)
    except NotFound:
        return None
    return bundle if bundle.rubric.version == rubric_version else None


def bundle_for(session: Session, *, course: str | None, assignment: str, rubric_version: str) -> AssignmentBundle:
    """The bundle a run under `rubric_version` is graded with: the course's published version of that rubric
    version (newest), else the shipped bundle if it is that version, else what the course grades with now."""
    if course is None:
        return find_assignment(assignment)
    stored = session.scalar(
        select(AssignmentVersion.content_hash)
        .where(AssignmentVersion.course_id == course, AssignmentVersion.assignment == assignment,
               AssignmentVersion.rubric_version == rubric_version,
               AssignmentVersion.status == VersionStatus.PUBLISHED)
        .order_by(AssignmentVersion.published_at.desc(), AssignmentVersion.id).limit(1))
    if stored is not None:
        return bundle_by_hash(session, stored)
    return _shipped_with(assignment, rubric_version) or current_bundle(session, course, assignment)


def bundle_for_run(session: Session, run: GradingRun) -> AssignmentBundle:
    submission = run.submission
    return bundle_for(session, course=submission.course, assignment=submission.assignment,
                      rubric_version=run.rubric_version)
