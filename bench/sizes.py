"""How big each benchmark mode is: TINY (``make test``), QUICK (``make bench``), FULL (``--full``).

One frozen dataclass holds every knob of every measurement, so a mode is read in
one place. The measurements take what they need and ignore the rest.
"""

from __future__ import annotations

from dataclasses import dataclass


@dataclass(frozen=True)
class Size:
    name: str
    # measure_delivery: customer POST -> agent socket and agent POST -> customer socket.
    delivery_conversations: int
    delivery_agents: int
    delivery_rates: tuple[int, ...]  # messages per second, open-loop
    delivery_seconds: float  # per rate
    saturation_rates: tuple[int, ...]  # stepped up until p99 >= 100 ms or a loss
    saturation_seconds: float  # per step
    saturation_refine_steps: int  # halvings between the last step held and the first failed
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
    saturation_rates=(200,),
    saturation_seconds=1.0,
    saturation_refine_steps=0,
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
    saturation_rates=(500, 1000, 1500, 2000, 3000),
    saturation_seconds=3.0,
    saturation_refine_steps=2,
    grace_seconds=5.0,
    idle_connections=10_000,
    idle_seconds=5.0,
    fanout_agents=1_000,
    fanout_rounds=5,
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
    saturation_rates=(500, 1000, 1500, 2000, 2500, 3000, 4000, 5000),
    saturation_seconds=10.0,
    saturation_refine_steps=3,
    grace_seconds=10.0,
    idle_connections=20_000,
    idle_seconds=20.0,
    fanout_agents=1_000,
    fanout_rounds=20,
    history_messages=100_000,
    history_conversations=100_000,
    history_requests=1_000,
    escalation_conversations=1_000,
    escalation_agents=50,
)

SIZES = {size.name: size for size in (TINY, QUICK, FULL)}
