"""How big each benchmark mode is: TINY (``make test``), QUICK (``make bench``), FULL (``--full``).

One frozen dataclass holds every knob of every measurement, so a mode is read in
one place. The measurements take what they need and ignore the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Ladder:
    """One server's saturation steps: up the rates until one fails, then halve the gap.

    The delivery rates count as steps too (measured once, reused). Halving stops
    once the last rate held and the first that failed are ``resolution`` apart, so
    the answer is known to within that, whichever step it fell between.
    """

    rates: tuple[int, ...]  # messages per second, tried in increasing order
    resolution: int  # messages per second


@dataclass(frozen=True)
class Size:
    name: str
    # measure_delivery: customer POST -> agent socket and agent POST -> customer socket.
    # measure_scaleout sends the same traffic (these fields and chatcore_ladder, with
    # saturation_seconds and grace_seconds) to PostgreSQL, one process and two instances.
    delivery_conversations: int
    delivery_agents: int
    delivery_rates: tuple[int, ...]  # messages per second, open-loop
    delivery_seconds: float  # per rate
    # Saturation: stepped up until p99 >= 100 ms or a loss. Each server has its own
    # ladder: the bare relay holds several times chatcore's rate, and one ladder
    # fine enough for chatcore would spend minutes below where the relay gives out.
    chatcore_ladder: Ladder
    relay_ladder: Ladder
    saturation_seconds: float  # per step
    grace_seconds: float  # after the last send, how long a message may still arrive
    # measure_idle
    idle_connections: int
    idle_seconds: float
    # measure_fanout
    fanout_agents: int
    fanout_rounds: int
    # measure_history
    history_messages: int
    history_conversations: int
    history_requests: int
    # measure_escalation
    escalation_conversations: int
    escalation_agents: int


TINY = Size(
    name="tiny",
    delivery_conversations=10,
    delivery_agents=2,
    delivery_rates=(50, 100),
    delivery_seconds=1.0,
    # One step each and no halving (resolution wider than any gap): seconds, not minutes.
    chatcore_ladder=Ladder(rates=(200,), resolution=10_000),
    relay_ladder=Ladder(rates=(200,), resolution=10_000),
    saturation_seconds=1.0,
    grace_seconds=5.0,
    idle_connections=50,
    idle_seconds=1.0,
    fanout_agents=20,
    fanout_rounds=3,
    history_messages=1_000,
    history_conversations=1_000,
    history_requests=20,
    escalation_conversations=50,
    escalation_agents=5,
)

QUICK = Size(
    name="quick",
    delivery_conversations=100,
    delivery_agents=5,
    delivery_rates=(200, 500, 1000),
    delivery_seconds=4.0,
    # chatcore: rungs 250 apart where it gives out today (500-750/s), so two halvings
    # put its limit within 100 msg/s; on up to the 2,000/s target and past it, in
    # case the server gets faster.
    chatcore_ladder=Ladder(rates=(750, 1000, 1500, 2000, 2500, 3000), resolution=100),
    # The relay gave out at 6,000-7,500/s with the generator at ~70% of a core; the
    # rungs go past that, until the relay fails or the generator (one process on the
    # same two cores) cannot keep up. The report says which came first.
    relay_ladder=Ladder(rates=(2000, 4000, 5000, 6000, 7000, 8000, 10_000), resolution=500),
    saturation_seconds=3.0,
    grace_seconds=5.0,
    idle_connections=10_000,
    idle_seconds=5.0,
    fanout_agents=1_000,
    fanout_rounds=100,
    history_messages=100_000,
    history_conversations=100_000,
    history_requests=200,
    escalation_conversations=1_000,
    escalation_agents=50,
)

FULL = Size(
    name="full",
    delivery_conversations=100,
    delivery_agents=10,
    delivery_rates=(200, 500, 1000),
    delivery_seconds=20.0,
    chatcore_ladder=Ladder(
        rates=(750, 1000, 1250, 1500, 2000, 2500, 3000, 4000, 5000), resolution=50
    ),
    relay_ladder=Ladder(
        rates=(2000, 3000, 4000, 5000, 6000, 7000, 8000, 10_000, 12_000), resolution=250
    ),
    saturation_seconds=10.0,
    grace_seconds=10.0,
    idle_connections=19_500,  # + warm-up + spare under a 20,000 open-file limit
    idle_seconds=20.0,
    fanout_agents=1_000,
    fanout_rounds=300,
    history_messages=100_000,
    history_conversations=100_000,
    history_requests=1_000,
    escalation_conversations=1_000,
    escalation_agents=50,
)

SIZES = {size.name: size for size in (TINY, QUICK, FULL)}
