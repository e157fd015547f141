"""The sender the domain's unit of work calls after commit: a message per row id, by stable task name."""

import logging
from collections.abc import Sequence

from celery import Celery
from kombu.exceptions import OperationalError as BrokerUnavailable

from grader.logs import log_event
from grader.services.queueing import Dispatch, Dispatcher
from workers.app import CHECK_TASK, GRADE_TASK, PASSBACK_TASK, TASK_QUEUES

logger = logging.getLogger(__name__)
TASK_FOR_KIND = {"grade": GRADE_TASK, "passback": PASSBACK_TASK, "check": CHECK_TASK}


def celery_dispatcher(app: Celery) -> Dispatcher:
    """Send through `app`; a broker that is down loses nothing, since the rows are committed and swept."""

    def send(messages: Sequence[Dispatch]) -> None:
        for message in messages:
            name = TASK_FOR_KIND[message.kind]
            try:
                app.send_task(name, args=[message.run_id], queue=TASK_QUEUES[name])
            except BrokerUnavailable as exc:
                log_event(logger, "dispatch_failed", level=logging.WARNING, task=name, run_id=message.run_id,
                          error=type(exc).__name__)

    return send
