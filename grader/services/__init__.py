"""Domain services: each takes a session, flushes, and leaves the commit to the unit of work."""
