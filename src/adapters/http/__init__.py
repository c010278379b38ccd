"""The HTTP adapter: Starlette routes over the use cases, msgspec on the wire."""

from adapters.http.app import ENDPOINTS, create_app

__all__ = ["ENDPOINTS", "create_app"]
