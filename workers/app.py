"""The Celery app: broker, queues and beat schedule from grader.config.get_settings(), read lazily so that
importing this module opens no connection and reads no environment."""

from typing import Any

from celery import Celery
from celery.signals import setup_logging

from grader.config import Settings, get_settings
from grader.logs import configure_logging

GRADING_QUEUE = "grading"
PASSBACK_QUEUE = "passback"
MAINTENANCE_QUEUE = "maintenance"
QUEUES = (GRADING_QUEUE, PASSBACK_QUEUE, MAINTENANCE_QUEUE)

GRADE_TASK = "grader.grade_run"
PASSBACK_TASK = "grader.deliver_passback"
SWEEP_TASK = "grader.sweep"
CHECK_TASK = "grader.assignments.check_version"
# A check runs the sandbox, so it goes where grading workers (privileged, with bwrap) listen.
TASK_QUEUES = {GRADE_TASK: GRADING_QUEUE, PASSBACK_TASK: PASSBACK_QUEUE, SWEEP_TASK: MAINTENANCE_QUEUE,
               CHECK_TASK: GRADING_QUEUE}


def celery_config(settings: Settings) -> dict[str, Any]:
    """At-least-once delivery; the database, not the broker, decides whether a message still has work to do."""
    return {
        "broker_url": settings.broker_url,
        "broker_connection_retry_on_startup": True,
        "task_ignore_result": True,
        "result_backend": None,
        "task_serializer": "json",
        "accept_content": ["json"],
        "task_acks_late": True,
        "task_reject_on_worker_lost": True,
        "worker_prefetch_multiplier": 1,
        "worker_hijack_root_logger": False,
        "worker_send_task_events": True,
        "task_send_sent_event": True,
        "task_default_queue": GRADING_QUEUE,
        "task_routes": {name: {"queue": queue} for name, queue in TASK_QUEUES.items()},
        "beat_schedule": {
            "sweep-stale-runs": {
                "task": SWEEP_TASK,
                "schedule": settings.sweep_interval_s,
                "options": {"queue": MAINTENANCE_QUEUE, "expires": settings.sweep_interval_s * 2},
            },
        },
    }


def create_app(settings: Settings | None = None) -> Celery:
    """An app for the given settings (tests), or for the process settings, resolved on first use."""
    app = Celery("grader", include=["workers.tasks"], set_as_current=settings is None)
    app.add_defaults(lambda: celery_config(settings or get_settings()))
    return app


@setup_logging.connect
def _json_logging(**_: Any) -> None:
    """Workers and beat log one JSON object per line, like every other grader process."""
    configure_logging(get_settings().log_level)


app = create_app()
