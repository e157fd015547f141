"""/docs: Swagger UI served from the installed swagger-ui-bundle-v2 package, so it renders on an offline host.

FastAPI's default page loads Swagger UI from a CDN and is blank without the internet; the same page pointed at
files this process serves needs nothing outside it. Only the three files the page uses are served.
"""

from fastapi import FastAPI, HTTPException
from fastapi.openapi.docs import get_swagger_ui_html
from fastapi.responses import FileResponse, HTMLResponse
from swagger_ui_bundle import swagger_ui_path

DOCS_PATH = "/docs"
ASSETS = {"swagger-ui-bundle.js": "text/javascript", "swagger-ui.css": "text/css", "favicon-32x32.png": "image/png"}


def install_docs(app: FastAPI) -> None:
    """Add /docs and its assets; the app is built with docs_url=None so FastAPI's CDN page is not registered."""

    @app.get(DOCS_PATH, include_in_schema=False)
    def swagger_ui() -> HTMLResponse:
        return get_swagger_ui_html(openapi_url=app.openapi_url or "/openapi.json", title=f"{app.title} — docs",
                                   swagger_js_url=f"{DOCS_PATH}/assets/swagger-ui-bundle.js",
                                   swagger_css_url=f"{DOCS_PATH}/assets/swagger-ui.css",
                                   swagger_favicon_url=f"{DOCS_PATH}/assets/favicon-32x32.png")

    @app.get(DOCS_PATH + "/assets/{name}", include_in_schema=False)
    def swagger_asset(name: str) -> FileResponse:
        if name not in ASSETS:
            raise HTTPException(status_code=404, detail=f"no docs asset {name!r}")
        return FileResponse(str(swagger_ui_path / name), media_type=ASSETS[name],
                            headers={"Cache-Control": "public, max-age=86400"})
