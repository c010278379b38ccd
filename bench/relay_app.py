"""The baseline: a bare relay on chatcore's server stack (Starlette on uvicorn).

``POST /post {"to": id, "body": text}`` forwards the body to every WebSocket
opened at ``/ws?id=<id>`` (the query may name several ids). No storage, no auth,
no validation: only a per-id counter, so the frames carry a ``seq`` and the load
generator checks order and duplicates exactly as it does against chatcore. The
frame has chatcore's envelope shape, so both cost the same to parse.

    cd bench && python -m uvicorn relay_app:app --ws websockets-sansio ...
"""

from __future__ import annotations

import json
from collections import defaultdict
from datetime import UTC, datetime

from starlette.applications import Starlette
from starlette.requests import Request
from starlette.responses import JSONResponse
from starlette.routing import Route, WebSocketRoute
from starlette.websockets import WebSocket, WebSocketDisconnect

_sockets: dict[str, set[WebSocket]] = defaultdict(set)
_seq: dict[str, int] = defaultdict(int)


def _now() -> str:
    return datetime.now(UTC).isoformat(timespec="milliseconds").replace("+00:00", "Z")


async def healthz(request: Request) -> JSONResponse:
    return JSONResponse({"status": "ok"})


async def post(request: Request) -> JSONResponse:
    payload = await request.json()
    to = str(payload["to"])
    _seq[to] += 1
    seq = _seq[to]
    frame = json.dumps(
        {
            "type": "message.created",
            "conversation_id": to,
            "data": {"conversation_id": to, "seq": seq, "body": payload["body"]},
            "sent_at": _now(),
        }
    )
    for socket in list(_sockets.get(to, ())):
        try:
            await socket.send_text(frame)
        except Exception:  # a socket that went away: forget it
            _sockets[to].discard(socket)
    return JSONResponse({"seq": seq}, status_code=201)


async def ws(websocket: WebSocket) -> None:
    ids = websocket.query_params.getlist("id")
    await websocket.accept()
    for one in ids:
        _sockets[one].add(websocket)
    try:
        while True:
            await websocket.receive_text()
    except WebSocketDisconnect:
        pass
    finally:
        for one in ids:
            _sockets[one].discard(websocket)


app = Starlette(
    routes=[
        Route("/healthz", healthz),
        Route("/post", post, methods=["POST"]),
        WebSocketRoute("/ws", ws),
    ]
)
