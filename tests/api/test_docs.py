"""/docs renders from files the server itself serves: nothing is fetched from a CDN, so it works offline."""

import re

from tests.api.conftest import ApiWorld


def test_docs_page_loads_only_same_origin_assets(world: ApiWorld) -> None:
    page = world.client.get("/docs")
    assert page.status_code == 200 and page.headers["content-type"].startswith("text/html")
    urls = re.findall(r'(?:src|href)=["\']([^"\']+)["\']', page.text) + re.findall(r"url: ?'([^']+)'", page.text)
    assert urls and all(url.startswith("/") for url in urls), urls
    assert "cdn" not in page.text.lower() and "https://" not in page.text
    for url, kind, marker in (("/docs/assets/swagger-ui-bundle.js", "text/javascript", b"SwaggerUIBundle"),
                              ("/docs/assets/swagger-ui.css", "text/css", b".swagger-ui"),
                              ("/docs/assets/favicon-32x32.png", "image/png", b"\x89PNG")):
        assert url in page.text
        asset = world.client.get(url)
        assert asset.status_code == 200 and asset.headers["content-type"].startswith(kind)
        assert marker in asset.content[:200_000]
    assert world.client.get("/openapi.json").json()["openapi"].startswith("3.")


def test_only_the_pages_assets_are_served(world: ApiWorld) -> None:
    for path in ("/docs/assets/index.html", "/docs/assets/..%2F__init__.py", "/docs/assets/swagger-ui.js.map",
                 "/redoc"):
        assert world.client.get(path).status_code == 404, path
