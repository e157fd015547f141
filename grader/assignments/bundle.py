"""The assignment bundle, as the rest of the grader reads it: one import for the type and the two ways to load one.

The type lives in grader.assignments.loaded, loading in grader.assignments.loader (any folder or archive) and
grader.assignments.registry (the bundles shipped with the grader); modules of this package import those, not this.
"""

from grader.assignments.loaded import AssignmentBundle
from grader.assignments.loader import load_bundle, load_bundle_bytes
from grader.assignments.registry import available_assignments, find_assignment, load_assignment

__all__ = ["AssignmentBundle", "available_assignments", "find_assignment", "load_assignment", "load_bundle",
           "load_bundle_bytes"]
