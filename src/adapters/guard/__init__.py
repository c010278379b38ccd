"""uvicorn's protocols with a bound on what one connection can make the server hold.

``http_protocol`` and ``WebSocketProtocol`` go into uvicorn's config (``http=``,
``ws=``); docs/SECURITY.md says which attack each bound answers.
"""

from adapters.guard.http_guard import http_protocol
from adapters.guard.websocket_guard import WebSocketProtocol

__all__ = ["WebSocketProtocol", "http_protocol"]
