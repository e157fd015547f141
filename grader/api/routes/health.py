"""Liveness and readiness, for load balancers and orchestrators; no token needed."""

from typing import Literal

from fastapi import APIRouter, Request
from fastapi.responses import JSONResponse
from pydantic import BaseModel

from grader.api.readiness import broker_problem, database_problem

router = APIRouter(tags=["health"])


class Health(BaseModel):
    status: Literal["ok"] = "ok"


class Readiness(BaseModel):
    """`ready` when both answer; otherwise each problem is named (by error type only)."""

    status: Literal["ready", "unready"]
    database: str
    broker: str


@router.get("/healthz", response_model=Health, summary="The process is up")
def healthz() -> Health:
    return Health()


@router.get("/readyz", response_model=Readiness, summary="The database and the broker are reachable",
            responses={503: {"model": Readiness, "description": "a dependency is unreachable"}})
def readyz(request: Request) -> JSONResponse:
    database = database_problem(request.app.state.session_factory)
    broker = broker_problem(request.app.state.settings.broker_url)
    body = Readiness(status="unready" if database or broker else "ready", database=database or "ok",
                     broker=broker or "ok")
    return JSONResponse(body.model_dump(), status_code=503 if database or broker else 200)
