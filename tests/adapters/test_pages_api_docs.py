"""The API page and its vendored viewer are served like every other page: under the
pages' Content-Security-Policy, never sniffed, never framed, with nothing from a CDN."""

from __future__ import annotations

import re

import httpx

from support.servers import LiveServer

ASSETS = {
    "/static/api-docs.js": "text/javascript",
    "/static/api-docs.css": "text/css",
    "/static/vendor/swagger-ui/swagger-ui-bundle.js": "text/javascript",
    "/static/vendor/swagger-ui/swagger-ui.css": "text/css",
}


def test_the_api_page_is_served_under_the_pages_policy(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        response = client.get("/api-docs")
    assert response.status_code == 200
    assert response.headers["content-type"].startswith("text/html")
    policy = response.headers["content-security-policy"]
    assert "script-src 'self';" in policy
    assert "style-src 'self';" in policy
    assert "frame-ancestors 'none'" in policy
    assert response.headers["x-content-type-options"] == "nosniff"
    assert response.headers["referrer-policy"] == "no-referrer"
    # Everything it loads is ours, and it names the document the server builds.
    sources = re.findall(r'(?:src|href)="([^"]+)"', response.text)
    assert {s for s in sources if s.startswith("/static/")} >= set(ASSETS)
    assert not [s for s in sources if "//" in s]
    assert 'data-openapi-url="/api/v1/openapi.json"' in response.text
    assert "<script>" not in response.text


def test_the_viewer_and_the_page_script_are_served_not_sniffed(live_server: LiveServer) -> None:
    with httpx.Client(base_url=live_server.url) as client:
        for path, media_type in ASSETS.items():
            response = client.get(path)
            assert response.status_code == 200, path
            assert response.headers["content-type"].startswith(media_type), path
            assert response.headers["x-content-type-options"] == "nosniff", path
            assert response.headers["referrer-policy"] == "no-referrer", path
            assert len(response.content) > 100, path
