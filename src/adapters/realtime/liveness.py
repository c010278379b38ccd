"""This server instance's heartbeat in the storage, and letting go of instances that stopped.

Agents' connections are counted per instance (chatcore.usecases.presence). Each
instance says it is alive every ``beat_seconds``; one silent for
``silent_seconds`` is taken for dead by whichever instance notices first, and its
connections go through the grace period. An instance that was only slow, not
dead, learns at its next beat that it was given up: it closes its sockets so that
they reconnect and are counted again, rather than hold agents it no longer counts.
"""

from __future__ import annotations

import asyncio
import logging
from collections.abc import Callable
from dataclasses import dataclass
from datetime import timedelta

from adapters.threads import run
from chatcore.usecases import Context, presence

log = logging.getLogger("chatcore.realtime")


@dataclass(frozen=True, slots=True)
class LivenessSettings:
    silent_seconds: float = 30.0  # an instance not heard from this long is dead
    # One server per database (SQLite): every other instance on record at start-up is
    # a predecessor that stopped, its counts let go at once rather than after a silence.
    sole_instance: bool = True

    @property
    def beat_seconds(self) -> float:
        # Six beats per silence: a few missed (a busy database, a pause) are not death.
        return self.silent_seconds / 6


class InstanceLiveness:
    def __init__(
        self,
        ctx: Context,
        *,
        instance_id: str,
        settings: LivenessSettings,
        on_forgotten: Callable[[], None],
    ) -> None:
        self.ctx = ctx
        self.instance_id = instance_id
        self.settings = settings
        self._on_forgotten = on_forgotten
        self._silence = timedelta(seconds=settings.silent_seconds)

    async def start(self) -> None:
        """Register, and let go of what stopped instances held (at start-up, before sockets)."""
        await run(presence.instance_alive, self.ctx, self.instance_id)
        silence = timedelta(0) if self.settings.sole_instance else self._silence
        await run(
            presence.forget_silent_instances, self.ctx, silent_for=silence, keep=self.instance_id
        )

    async def keep_beating(self) -> None:
        """Until cancelled: beat, then look for instances that fell silent."""
        while True:
            await asyncio.sleep(self.settings.beat_seconds)
            try:
                await self.beat()
            except Exception:
                log.exception("instance heartbeat failed; trying again shortly")

    async def beat(self) -> None:
        if not await run(presence.instance_alive, self.ctx, self.instance_id):
            log.warning(
                "instance %s was given up for dead by another (silent for over %s s):"
                " closing its sockets so that they reconnect and are counted again",
                self.instance_id,
                self.settings.silent_seconds,
            )
            self._on_forgotten()
        await run(
            presence.forget_silent_instances,
            self.ctx,
            silent_for=self._silence,
            keep=self.instance_id,
        )

    async def stop(self) -> None:
        """A clean stop: nothing left counted under this instance."""
        try:
            await run(presence.instance_stopped, self.ctx, self.instance_id)
        except Exception:
            log.exception("could not record this instance's stop; others will notice its silence")
