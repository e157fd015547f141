"""The one error handler: domain errors become status codes and a JSON body that names the problem."""

import logging
from http import HTTPStatus
from typing import Any

from fastapi import FastAPI, Request
from fastapi.exceptions import RequestValidationError
from fastapi.responses import JSONResponse
from pydantic import BaseModel, Field
from starlette.exceptions import HTTPException

from grader.errors import GraderError
from grader.logs import log_event

logger = logging.getLogger(__name__)


class FieldProblem(BaseModel):
    """One invalid request field: where it is (`form.student`, `query.format`) and what is wrong."""

    location: str
    message: str


class ErrorBody(BaseModel):
    """Every error answer: a stable machine code, a sentence for people, and the fields at fault if any."""

    error: str = Field(description="stable code: unauthenticated, forbidden, not_found, conflict, rate_limited, "
                                   "too_large, not_text, unsupported_type, not_notebook, wrong_assignment, empty, "
                                   "invalid, invalid_callback_url, validation_error, internal_error, ...")
    detail: str
    fields: list[FieldProblem] = Field(default_factory=list)


def error_responses(*codes: int) -> dict[int | str, dict[str, Any]]:
    """OpenAPI documentation of the error answers a route can give."""
    return {code: {"model": ErrorBody, "description": HTTPStatus(code).phrase} for code in codes}


def _answer(status: int, body: ErrorBody, headers: dict[str, str] | None = None) -> JSONResponse:
    return JSONResponse(body.model_dump(), status_code=status, headers=headers)


async def domain_error(_request: Request, exc: Exception) -> JSONResponse:
    """Expected outcomes (a rejected upload, a wrong token, a replayed conflict) are never a 500: each domain error
    carries its own status, code and headers (grader.errors), so nothing here names one."""
    assert isinstance(exc, GraderError)
    if exc.http_status >= 500:
        log_event(logger, "api_domain_error", level=logging.WARNING, error=type(exc).__name__)
    return _answer(exc.http_status, ErrorBody(error=exc.code, detail=exc.detail), exc.headers())


async def validation_error(_request: Request, exc: Exception) -> JSONResponse:
    assert isinstance(exc, RequestValidationError)
    fields = [FieldProblem(location=".".join(str(part) for part in problem.get("loc", ())),
                           message=str(problem.get("msg", ""))) for problem in exc.errors()]
    detail = "; ".join(f"{field.location}: {field.message}" for field in fields) or "invalid request"
    return _answer(422, ErrorBody(error="validation_error", detail=detail, fields=fields))


async def http_error(_request: Request, exc: Exception) -> JSONResponse:
    """Framework answers (unknown path, wrong method, body over the size cap) in the same shape."""
    assert isinstance(exc, HTTPException)
    code = HTTPStatus(exc.status_code).phrase.lower().replace(" ", "_").replace("-", "_")
    if exc.status_code == 413:
        code = "too_large"
    return _answer(exc.status_code, ErrorBody(error=code, detail=str(exc.detail)), dict(exc.headers or {}))


async def internal_error(request: Request, exc: Exception) -> JSONResponse:
    """A bug: logged with its type for staff; the caller learns nothing about internals."""
    log_event(logger, "api_internal_error", level=logging.ERROR, path=request.url.path, error=type(exc).__name__)
    logger.error("unhandled exception", exc_info=exc)
    return _answer(500, ErrorBody(error="internal_error", detail="internal error; it has been logged"))


def install_error_handlers(app: FastAPI) -> None:
    app.add_exception_handler(GraderError, domain_error)
    app.add_exception_handler(RequestValidationError, validation_error)
    app.add_exception_handler(HTTPException, http_error)
    app.add_exception_handler(Exception, internal_error)
