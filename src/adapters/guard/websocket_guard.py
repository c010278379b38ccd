"""uvicorn's sans-I/O WebSocket protocol, closing a peer that does not read its pongs.

uvicorn answers every ping at once and unconditionally, so a peer that sends pings
and never reads makes the server buffer pongs without limit; neither websockets'
frame size limit nor chatcore's slow-socket rule (which counts the app's frames)
sees control frames. After each read the unread output is measured, and past the
bound the connection goes.
"""

from __future__ import annotations

from uvicorn.protocols.websockets.websockets_sansio_impl import WebSocketsSansIOProtocol

from adapters.guard.limits import cut, holding_too_much


class WebSocketProtocol(WebSocketsSansIOProtocol):
    def data_received(self, data: bytes) -> None:
        super().data_received(data)
        if holding_too_much(self.transport):
            cut(self.transport, "it does not read what it is sent")
