"""What students of a course may have downloaded before: the locked cells of every published version of its
assignment, and of the shipped bundle of that id (what the course graded with before its first publish).

Restoration reads them to tell a cell of an earlier release (`locked_cell_outdated`) from a tampered one.
Rejected and still-checking uploads were never released, so they never count.
"""

import threading
from collections import OrderedDict

from sqlalchemy import select
from sqlalchemy.orm import Session

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.registry import find_assignment, shipped_assignments
from grader.models import AssignmentVersion, VersionStatus
from grader.notebooks.releases import NO_EARLIER, EarlierReleases
from grader.services.bundles import bundle_by_hash

KEPT = 16
_KEPT: OrderedDict[tuple[str, ...], EarlierReleases] = OrderedDict()
_LOCK = threading.Lock()


def _published_hashes(session: Session, course: str, assignment: str) -> tuple[str, ...]:
    rows = session.scalars(select(AssignmentVersion.content_hash)
                           .where(AssignmentVersion.course_id == course, AssignmentVersion.assignment == assignment,
                                  AssignmentVersion.status == VersionStatus.PUBLISHED))
    return tuple(sorted(set(rows)))


def _shipped(assignment: str) -> list[AssignmentBundle]:
    return [find_assignment(assignment)] if assignment in shipped_assignments() else []


def earlier_releases(session: Session, *, course: str | None, assignment: str) -> EarlierReleases:
    """The released forms of each locked cell of (course, assignment); none for a course-less submission.

    Kept per set of published versions, so a worker builds it once per publish, not once per run.
    """
    if course is None:
        return NO_EARLIER
    hashes = _published_hashes(session, course, assignment)
    if not hashes:
        return NO_EARLIER
    key = (assignment, *hashes)
    with _LOCK:
        kept = _KEPT.get(key)
        if kept is not None:
            _KEPT.move_to_end(key)
            return kept
    bundles = [bundle_by_hash(session, content_hash) for content_hash in hashes] + _shipped(assignment)
    built = EarlierReleases.of(bundle.source_cells for bundle in bundles)
    with _LOCK:
        _KEPT[key] = built
        while len(_KEPT) > KEPT:
            _KEPT.popitem(last=False)
    return built
