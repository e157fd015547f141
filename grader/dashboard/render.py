"""Rendering: one autoescaping Jinja2 environment, and the fixed texts of flash messages."""

from pathlib import Path
from typing import Any

from fastapi import Request
from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

from grader.dashboard.flags import flag_label, tampers

TEMPLATES = Path(__file__).parent / "templates"
ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
ENVIRONMENT.filters["g"] = lambda value: "" if value is None else f"{value:g}"
ENVIRONMENT.filters["flag_label"] = flag_label
ENVIRONMENT.filters["tampers"] = tampers
# Flash messages travel as codes in the redirect's query string, so no text from a request is ever echoed back.
NOTICES = {
    "retried": "The run was queued again; its result appears here when a worker has graded it.",
    "passback": "The score will be sent to the LMS again.",
    "cancelled": "The batch was cancelled: its queued runs will not be graded.",
    "published": "The batch was published: its results are now current and changed scores are passed back.",
    "rolled-back": "The batch was rolled back: the results it replaced are current again.",
    "current": "New submissions of this assignment are now graded with the version marked current.",
}
ALERTS = {
    "regrade-running": "A regrade of this assignment is still running; wait for it to end or cancel it first.",
    "not-retryable": "Only a run that ended in error can be retried; this one is not in error any more.",
    "no-passback": "There is nothing to send: the submission has no callback URL or LTI launch, or no graded result.",
    "batch-conflict": "That is not possible in the batch's current state (still running, or already done).",
}


def render(request: Request, name: str, context: dict[str, Any], *, status_code: int = 200) -> HTMLResponse:
    """A page with the flash messages of its query string; every value is escaped by the environment."""
    notice = NOTICES.get(request.query_params.get("done", ""))
    alert = ALERTS.get(request.query_params.get("error", ""))
    html = ENVIRONMENT.get_template(name).render(request_path=request.url.path, notice=notice, alert=alert,
                                                 **context)
    return HTMLResponse(html, status_code=status_code)
