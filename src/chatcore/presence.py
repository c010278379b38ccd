"""Presence: what an agent chose, bent by whether its connections are alive.

Sans-I/O, in the manner of h11's ``_state.py``: a link state, a transition
table that every next link comes from (``next_link``), one function per event,
time passed in. The effective presence that everyone sees is the agent's
choice, except while the link has *lapsed*: the last live connection has been
gone for the whole grace period.

    IDLE ──connect──▶ LIVE ──last disconnect──▶ GRACE ──grace runs out──▶ LAPSED
                        ▲                         │                         │
                        └──────── connect ────────┴──────── connect ────────┘

IDLE is an agent that never connected (or that chose a presence by hand after
lapsing): what it set stands, connections or not.
"""

from __future__ import annotations

from dataclasses import dataclass, replace
from datetime import datetime, timedelta
from enum import Enum, StrEnum

from chatcore.errors import InvalidTransition


class PresenceStatus(StrEnum):
    ONLINE = "online"
    AWAY = "away"
    OFFLINE = "offline"


class Link(StrEnum):
    IDLE = "idle"
    LIVE = "live"
    GRACE = "grace"
    LAPSED = "lapsed"


class LinkEvent(Enum):
    CONNECT = "connect"
    DISCONNECT = "disconnect"
    LAST_DISCONNECT = "last_disconnect"
    GRACE_EXPIRED = "grace_expired"
    CHOOSE = "choose"


# Everything that moves the link lives here. A pair that is missing is refused.
LINK_TRANSITIONS: dict[Link, dict[LinkEvent, Link]] = {
    Link.IDLE: {LinkEvent.CONNECT: Link.LIVE, LinkEvent.CHOOSE: Link.IDLE},
    Link.LIVE: {
        LinkEvent.CONNECT: Link.LIVE,
        LinkEvent.DISCONNECT: Link.LIVE,
        LinkEvent.LAST_DISCONNECT: Link.GRACE,
        LinkEvent.CHOOSE: Link.LIVE,
    },
    Link.GRACE: {
        LinkEvent.CONNECT: Link.LIVE,
        LinkEvent.GRACE_EXPIRED: Link.LAPSED,
        LinkEvent.CHOOSE: Link.GRACE,
    },
    # Choosing a presence by hand after lapsing is a sign of life: the choice stands again.
    Link.LAPSED: {LinkEvent.CONNECT: Link.LIVE, LinkEvent.CHOOSE: Link.IDLE},
}


@dataclass(frozen=True, slots=True)
class Presence:
    chosen: PresenceStatus = PresenceStatus.OFFLINE
    link: Link = Link.IDLE
    connections: int = 0
    # When the last live connection went away; set only in GRACE and LAPSED.
    disconnected_at: datetime | None = None

    @property
    def effective(self) -> PresenceStatus:
        return PresenceStatus.OFFLINE if self.link is Link.LAPSED else self.chosen

    def grace_deadline(self, grace: timedelta) -> datetime | None:
        """When the link lapses unless a connection comes back; None when it cannot."""
        if self.link is Link.GRACE and self.disconnected_at is not None:
            return self.disconnected_at + grace
        return None

    def grace_over(self, now: datetime, *, grace: timedelta) -> bool:
        """In grace, and no connection came back before the deadline: due to lapse."""
        deadline = self.grace_deadline(grace)
        return deadline is not None and deadline <= now


def next_link(presence: Presence, event: LinkEvent) -> Link:
    """The table's entry for the presence's link and ``event``; a missing pair raises."""
    try:
        return LINK_TRANSITIONS[presence.link][event]
    except KeyError:
        raise InvalidTransition(
            f"Presence cannot take {event.value} while {presence.link.value}."
        ) from None


def choose(presence: Presence, status: PresenceStatus) -> Presence:
    link = next_link(presence, LinkEvent.CHOOSE)
    # Back to IDLE after a lapse: no departure is being timed any more.
    gone = presence.disconnected_at if link in (Link.GRACE, Link.LAPSED) else None
    return replace(presence, chosen=status, link=link, disconnected_at=gone)


def connect(presence: Presence) -> Presence:
    return replace(
        presence,
        link=next_link(presence, LinkEvent.CONNECT),
        connections=presence.connections + 1,
        disconnected_at=None,
    )


def disconnect(presence: Presence, *, now: datetime) -> Presence:
    if presence.connections <= 1:
        return replace(
            presence,
            link=next_link(presence, LinkEvent.LAST_DISCONNECT),
            connections=0,
            disconnected_at=now,
        )
    return replace(
        presence,
        link=next_link(presence, LinkEvent.DISCONNECT),
        connections=presence.connections - 1,
    )


def disconnect_many(presence: Presence, count: int, *, now: datetime) -> Presence:
    """``count`` connections gone at once (the instance that held them stopped).

    The same as ``count`` disconnects in a row, never fewer than none left.
    """
    if count <= 0 or presence.connections == 0:
        return presence
    if count >= presence.connections:
        return disconnect(replace(presence, connections=1), now=now)
    return replace(
        presence,
        link=next_link(presence, LinkEvent.DISCONNECT),
        connections=presence.connections - count,
    )


def expire_grace(presence: Presence, *, now: datetime, grace: timedelta) -> Presence:
    """Lapse the link when the grace period is over; otherwise nothing changes."""
    if not presence.grace_over(now, grace=grace):
        return presence
    return replace(presence, link=next_link(presence, LinkEvent.GRACE_EXPIRED))
