"""The FastAPI app factory: settings in, an app with its routers, error handler, limits and wiring out."""

from fastapi import FastAPI

from grader.api.docs import install_docs
from grader.api.errors import install_error_handlers
from grader.api.limits import BodySizeLimit
from grader.api.routes import assignments, batches, health, lti, submissions
from grader.config import Settings, get_settings
from grader.dashboard.app import install_dashboard
from grader.lti.platform_keys import PlatformKeys
from grader.runtime_context import session_factory
from grader.services.queueing import Dispatcher
from grader.services.ratelimit import Buckets, buckets_for, submission_policy

API_VERSION = "1.0.0"
MULTIPART_SLACK_BYTES = 64 * 1024
DESCRIPTION = """LMS submission hooks and the instructor API of the TinyTorch autograder.

Every `/api/v1` call carries `Authorization: Bearer <token>`. A token belongs to one course and has one role:
`lms` submits and reads its course's submissions (student view), `instructor` reads everything of its course,
regrades and resends passbacks. Assignment ids in URLs (`layers`) are scoped by the token's course.

`POST /api/v1/assignments` takes an assignment bundle archive (instructor): it is stored as a version in
`checking` and answered 202 with the URL to poll; a worker runs `check` on it in the sandbox and publishes it
(it becomes the course's current version), or rejects it with the check table (`force` publishes it anyway,
and says so on the version). `PUT /api/v1/assignments/{id}/current` moves the course to any published version,
or back to the shipped bundle.

`POST /api/v1/submissions` is idempotent on `external_id`. When a run is graded and the submission has a
`callback_url`, the grader POSTs the score there, signed: `X-Grader-Signature: sha256=HMAC_SHA256(secret,
X-Grader-Timestamp + "." + raw body)`; retried with exponential backoff on no answer or 5xx.
"""


def create_app(settings: Settings | None = None, *, dispatcher: Dispatcher | None = None,
               buckets: Buckets | None = None) -> FastAPI:
    """One app per settings object; the dispatcher and buckets default to the Celery sender and Redis."""
    settings = settings or get_settings()
    app = FastAPI(title="TinyTorch autograder API", version=API_VERSION, description=DESCRIPTION, docs_url=None,
                  redoc_url=None)
    app.state.settings = settings
    app.state.session_factory = session_factory(settings)
    app.state.dispatcher = dispatcher
    app.state.buckets = buckets or buckets_for(settings)
    app.state.submission_policy = submission_policy(settings)
    app.state.lti_keys = PlatformKeys.from_settings(settings)
    install_error_handlers(app)
    bundle_cap = (settings.bundle_max_kib * 1024 + MULTIPART_SLACK_BYTES,
                  f"the bundle archive is over the {settings.bundle_max_kib} KiB limit")
    app.add_middleware(BodySizeLimit, max_bytes=settings.max_upload_kib * 1024 + MULTIPART_SLACK_BYTES,
                       detail=f"the upload is over the {settings.max_upload_kib} KiB limit",
                       paths={"/api/v1/assignments": bundle_cap})
    app.include_router(health.router)
    app.include_router(submissions.router, prefix="/api/v1")
    app.include_router(assignments.router, prefix="/api/v1")
    app.include_router(batches.router, prefix="/api/v1")
    app.include_router(lti.router)
    install_dashboard(app)
    install_docs(app)
    return app
