"""The HTTP API: LMS submission hooks and the instructor API (FastAPI, OpenAPI at /openapi.json)."""
