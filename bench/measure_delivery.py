"""End-to-end delivery: a message posted over REST until it arrives on the other side's socket.

Against ``chatcore serve``: N conversations, each started by a customer and
escalated to one of a few online agents (so the bot stays quiet). Every agent
holds one WebSocket, every customer its own. Messages go round-robin over the
conversations, alternating direction each round: a customer POST, timed until
``message.created`` with that body reaches the holding agent's socket; an agent
POST, timed until it reaches the customer's socket.

The same shape against the bare relay (bench/relay_app.py): each conversation is
a relay id, the "agent" sockets follow N/agents ids each, a "customer" socket one
id, and ``POST /post`` forwards to both, as chatcore does with a message.

The load comes from a separate process (this module run with ``--generate``):
asyncio, open-loop. Send times are fixed in advance at the target rate, each
POST is its own task, and latency counts from the scheduled time, so a server
that answers slowly cannot slow the arrivals down and hide its queue. Every
socket checks each conversation's ``seq``: duplicated (seen twice), out of order
(lower than the last). Lost: a message whose POST succeeded that did not arrive
within the grace period.

Saturation: each server's ladder (bench/sizes.py) stepped up until p99 reaches
100 ms or a message is lost, then the gap halved down to the ladder's resolution;
the highest step that held is the answer. What stopped it is reported too: the
server, the load generator (it neared a full core: it shares the machine), other
work on the machine (the generator's sends started late though neither process
was busy), or the ladder (every step held).

This module starts each server and the generator process against it, and puts
the two results side by side. The generator is delivery_generator.py (its lanes
set up by delivery_setup.py, CPU and run-queue readings from usage.py), the
saturation ladder ladder.py.

    .venv/bin/python bench/measure_delivery.py [--tiny | --full]
"""

from __future__ import annotations

import argparse
import asyncio
import json
import subprocess
import sys
from pathlib import Path
from typing import Any

from delivery_generator import event_loop_factory, generate
from ladder import max_steps
from server import Server, chatcore_server, relay_server
from sizes import QUICK, SIZES, Size

NAME = "delivery"


def load(
    target: str, server: Server, size: Size, extra: dict[str, Any] | None = None
) -> dict[str, Any]:
    """Run the load generator in its own process against ``server``; its JSON result.
    ``extra`` goes into the generator's config (a second server: measure_scaleout.py)."""
    ladder = size.relay_ladder if target == "relay" else size.chatcore_ladder
    config = {
        "target": target,
        "url": server.url,
        "ws_url": server.ws_url,
        "pid": server.pid,
        "conversations": size.delivery_conversations,
        "agents": size.delivery_agents,
        "rates": list(size.delivery_rates),
        "seconds": size.delivery_seconds,
        "ladder": list(ladder.rates),
        "resolution": ladder.resolution,
        "saturation_seconds": size.saturation_seconds,
        "grace_seconds": size.grace_seconds,
        **(extra or {}),
    }
    budget = 120 + len(size.delivery_rates) * (size.delivery_seconds + size.grace_seconds) * 2
    budget += max_steps(ladder) * (size.saturation_seconds + size.grace_seconds) * 2
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--generate"],
        input=json.dumps(config),
        capture_output=True,
        text=True,
        timeout=budget,
        check=False,
    )
    if done.returncode != 0:
        raise RuntimeError(f"load generator against {target} failed:\n{done.stderr[-3000:]}")
    result: dict[str, Any] = json.loads(done.stdout)
    result["server_rss_kib"] = server.rss_kib()
    return result


def run(size: Size) -> dict[str, Any]:
    with chatcore_server() as server:
        chatcore = load("chatcore", server, size)
    with relay_server() as relay_proc:
        relay = load("relay", relay_proc, size)
    ratios = []
    for mine in chatcore["rates"]:
        theirs = next((r for r in relay["rates"] if r["rate"] == mine["rate"]), None)
        if theirs and mine["p50_ms"] and theirs["p50_ms"]:
            ratios.append(
                {
                    "rate": mine["rate"],
                    "chatcore_p50_ms": mine["p50_ms"],
                    "relay_p50_ms": theirs["p50_ms"],
                    "p50_ratio": round(mine["p50_ms"] / theirs["p50_ms"], 2),
                    "chatcore_p99_ms": mine["p99_ms"],
                    "relay_p99_ms": theirs["p99_ms"],
                }
            )
    return {
        "size": size.name,
        "conversations": size.delivery_conversations,
        "agents": size.delivery_agents,
        "chatcore": chatcore,
        "relay": relay,
        "ratios": ratios,
    }


def _print(result: dict[str, Any]) -> None:
    for target in ("chatcore", "relay"):
        part = result[target]
        print(f"{target}: {part['conversations']} conversations, setup {part['setup_seconds']} s")
        steps = [s for s in part["saturation"]["steps"] if not s["reused"]]
        for r in part["rates"] + steps:
            print(
                f"  {r['rate']:>6}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
                f"  max {r['max_ms']} ms  achieved {r['achieved_rate']}/s  lost {r['lost']}"
                f"  dup {r['duplicated']}  ooo {r['out_of_order']}  errors {r['post_errors']}"
                f"  server CPU {r['server_cpu_pct']}%  generator CPU {r['generator_cpu_pct']}%"
                f"  send lag p99 {r['send_lag_p99_ms']} ms  sockets closed {r['sockets_closed']}"
            )
        sat = part["saturation"]
        print(f"  saturation: {sat['highest_rate']}/s (limited by the {sat['limited_by']})")
    for ratio in result["ratios"]:
        print(f"ratio at {ratio['rate']}/s: p50 {ratio['p50_ratio']}x the relay's")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--generate", action="store_true", help=argparse.SUPPRESS)
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    if args.generate:
        config = json.loads(sys.stdin.read())
        with asyncio.Runner(loop_factory=event_loop_factory()) as runner:
            json.dump(runner.run(generate(config)), sys.stdout)
        return
    size = SIZES["tiny"] if args.tiny else SIZES["full"] if args.full else QUICK
    _print(run(size))


if __name__ == "__main__":
    main()
