"""The realtime adapter: ``WS /api/v1/realtime/ws``, the hub that routes events to sockets."""

from adapters.realtime.service import Realtime
from adapters.realtime.settings import RealtimeSettings

__all__ = ["Realtime", "RealtimeSettings"]
