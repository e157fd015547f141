"""Imports that build what a short command needs, without the cycle collector running through them.

A one-file grade imports SQLAlchemy, the models, jupytext with nbformat and numpy: some 180,000 objects that live
as long as the process. The collector, triggered by their allocations, walks the growing heap again and again
while they are built, a tenth or more of the command's own time, and finds nothing to free.
"""

import gc
from collections.abc import Iterator
from contextlib import contextmanager


@contextmanager
def without_collection() -> Iterator[None]:
    """Pause the collector for a block of imports; what they built is then frozen (never scanned again) and
    collection resumes as it was, for whatever the command allocates next."""
    enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        gc.freeze()
        if enabled:
            gc.enable()
