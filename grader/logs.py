"""Structured logging: one JSON object per line, for workers now and the API later."""

import json
import logging
import os
import socket
import sys
from datetime import UTC, datetime
from typing import IO, Any

EVENT_FIELDS = "grader_fields"


class JsonFormatter(logging.Formatter):
    """Each record becomes one JSON line: time, level, logger, event, and the fields the caller attached."""

    def __init__(self) -> None:
        super().__init__()
        self.host = socket.gethostname()

    def format(self, record: logging.LogRecord) -> str:
        document: dict[str, Any] = {
            "ts": datetime.fromtimestamp(record.created, UTC).isoformat(timespec="milliseconds"),
            "level": record.levelname.lower(),
            "logger": record.name,
            "event": getattr(record, "event", None) or "log",
            "host": self.host,
            "pid": record.process or os.getpid(),
        }
        fields = getattr(record, EVENT_FIELDS, None)
        if isinstance(fields, dict):
            document.update(fields)
        elif record.msg is not None:
            document["message"] = record.getMessage()
        if record.exc_info:
            document["exception"] = self.formatException(record.exc_info)
        return json.dumps(document, default=str)


def configure_logging(level: str = "INFO", stream: IO[str] | None = None) -> None:
    """Route every logger (ours, Celery's, the API server's) through one JSON handler on the root."""
    handler = logging.StreamHandler(stream or sys.stderr)
    handler.setFormatter(JsonFormatter())
    root = logging.getLogger()
    for existing in list(root.handlers):
        root.removeHandler(existing)
    root.addHandler(handler)
    root.setLevel(level.upper())
    logging.captureWarnings(True)


def log_event(logger: logging.Logger, event: str, *, level: int = logging.INFO, **fields: Any) -> None:
    """One structured event; callers pass ids and numbers, never student code or secrets."""
    logger.log(level, event, extra={"event": event, EVENT_FIELDS: fields})
