"""Clickjacking through a second path: a page served somewhere without its headers.

Each page is served at one path with a Content-Security-Policy whose
``frame-ancestors`` keeps it out of other sites' frames. The same file reached
under ``/static`` (or by any other spelling) would come without them, and another
site could frame the console and trick an agent into clicking. Every path tried
here is either a 404 or carries the CSP with ``frame-ancestors``; the pages' own
paths carry it, and nothing under ``/static`` is a page.

Against a real ``chatcore serve``.
"""

from __future__ import annotations

from collections.abc import Iterator

import httpx
import pytest

from adapters.web.pages import STATIC
from support.serve_process import chatcore_serve

PAGES = {"/": "index.html", "/console": "console.html", "/demo": "demo.html"}
PAGES["/api-docs"] = "api-docs.html"
NOT_FRAMABLE = ("/", "/console", "/api-docs")


@pytest.fixture(scope="module")
def client(tmp_path_factory: pytest.TempPathFactory) -> Iterator[httpx.Client]:
    scratch = tmp_path_factory.mktemp("pages")
    env = {"CHATCORE_DATABASE": str(scratch / "chat.db")}
    with (
        chatcore_serve(env, log=scratch / "serve.log") as instance,
        httpx.Client(base_url=instance.url, timeout=30) as http,
    ):
        yield http


def frame_ancestors(response: httpx.Response) -> str | None:
    policy = str(response.headers.get("content-security-policy", ""))
    for directive in policy.split(";"):
        name, _, value = directive.strip().partition(" ")
        if name == "frame-ancestors":
            return value.strip()
    return None


def assert_unframable_or_absent(response: httpx.Response, path: str) -> None:
    if response.status_code == 404:
        return
    assert frame_ancestors(response) in ("'none'", "'self'"), (path, dict(response.headers))


def test_each_page_has_its_path_and_its_headers(client: httpx.Client) -> None:
    for path, name in PAGES.items():
        page = client.get(path)
        assert page.status_code == 200, path
        assert page.content == (STATIC / name).read_bytes(), path
        assert "script-src 'self'" in page.headers["content-security-policy"], path
        expected = "'none'" if path in NOT_FRAMABLE else "'self'"
        assert frame_ancestors(page) == expected, path


def test_no_second_path_serves_a_page_without_its_headers(client: httpx.Client) -> None:
    tried: list[str] = []
    for name in PAGES.values():
        stem = name.removesuffix(".html")
        tried += [
            f"/static/{name}",
            f"/static//{name}",
            f"/static/./{name}",
            f"/static/%2e/{name}",
            f"/static/{stem}%2Ehtml",
            f"/static/{name}?v=1",
            f"/{name}",
            f"/{stem}/",
            f"/{stem}/index.html",
        ]
    for path in tried:
        for method in ("GET", "HEAD"):
            response = client.request(method, path)
            assert response.status_code in (200, 404), (method, path, response.status_code)
            assert_unframable_or_absent(response, path)
    for name in PAGES.values():
        assert client.get(f"/static/{name}").status_code == 404, name


def test_every_file_under_static_is_unframable(client: httpx.Client) -> None:
    files = sorted(p for p in STATIC.rglob("*") if p.is_file())
    assert len(files) > 10, "the static folder moved"
    for file in files:
        path = "/static/" + file.relative_to(STATIC).as_posix()
        response = client.head(path)
        assert response.status_code in (200, 404), path
        assert_unframable_or_absent(response, path)
        if file.suffix == ".html":
            assert response.status_code == 404, path


def test_the_page_files_still_load(client: httpx.Client) -> None:
    """The pages' scripts and styles are still served: only the pages moved out."""
    for name in ("console.css", "console/main.js", "favicon.svg"):
        response = client.get(f"/static/{name}")
        assert response.status_code == 200, name
        assert response.headers["x-content-type-options"] == "nosniff", name
