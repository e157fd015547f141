"""The few HTML pages of an LTI launch (shown inside the LMS): the upload form, the receipt, a clear refusal."""

from pathlib import Path
from typing import Any

from fastapi.responses import HTMLResponse
from jinja2 import Environment, FileSystemLoader, StrictUndefined

TEMPLATES = Path(__file__).parent / "templates"
ENVIRONMENT = Environment(loader=FileSystemLoader(TEMPLATES), autoescape=True, undefined=StrictUndefined,
                          trim_blocks=True, lstrip_blocks=True)
# Shown inside the LMS's iframe, so framing is allowed; nothing else is loaded and forms post only to us.
HEADERS = {"Content-Security-Policy": "default-src 'none'; form-action 'self'; base-uri 'none'",
           "Referrer-Policy": "no-referrer", "X-Content-Type-Options": "nosniff", "Cache-Control": "no-store"}


def page(name: str, status_code: int = 200, **context: Any) -> HTMLResponse:
    return HTMLResponse(ENVIRONMENT.get_template(name).render(**context), status_code=status_code, headers=HEADERS)


def refusal(message: str, status_code: int) -> HTMLResponse:
    return page("lti_error.html", status_code, message=message)
