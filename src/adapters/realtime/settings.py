"""The realtime adapter's settings: what the composition root decides for every socket."""

from __future__ import annotations

from collections.abc import Sequence
from dataclasses import dataclass, field

from adapters.ratelimit import Limit
from adapters.realtime.liveness import LivenessSettings


@dataclass(frozen=True, slots=True)
class RealtimeSettings:
    heartbeat_seconds: int = 20
    typing_timeout_seconds: int = 6
    queue_frames: int = 256
    allowed_origins: Sequence[str] = ()
    liveness: LivenessSettings = field(default_factory=LivenessSettings)
    # Inbound frames per connection; None: unlimited (CHATCORE_RATE_LIMITS=off).
    frame_limit: Limit | None = None
