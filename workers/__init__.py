"""Celery transport for grading: the app, thin tasks, and the sender the domain's unit of work calls after commit."""
