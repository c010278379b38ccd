"""CPU time and run-queue time of the server and of the load generator, from /proc.

The generator reads these around each phase: how busy each process was while
the load was offered, and how long each sat runnable but waiting for a core
(other work on the machine), which is how the ladder says what stopped it.
"""

from __future__ import annotations

import os
import time
from dataclasses import dataclass
from pathlib import Path


def server_cpu(pid: int) -> float:
    fields = Path(f"/proc/{pid}/stat").read_text().rsplit(")", 1)[1].split()
    return (int(fields[11]) + int(fields[12])) / os.sysconf("SC_CLK_TCK")


def percent(cpu_seconds: float, wall_seconds: float) -> float | None:
    """CPU seconds as a percentage of one core over ``wall_seconds``."""
    return round(100 * cpu_seconds / wall_seconds, 1) if wall_seconds > 0 else None


def waited_for_a_core(pid: int) -> float | None:
    """Seconds the process's main thread (its event loop) has spent runnable but
    waiting for a core, from the kernel's run queue figures (schedstat), or None
    where the kernel does not say. Worker threads are left out: several of them
    queueing at once would add up past the time that passed."""
    try:
        fields = Path(f"/proc/{pid}/task/{pid}/schedstat").read_text().split()
        return int(fields[1]) / 1e9
    except (OSError, IndexError, ValueError):
        return None


@dataclass(frozen=True)
class Usage:
    """The server's and the generator's CPU time and run-queue time at one moment."""

    at: float
    server_cpu: float
    generator_cpu: float
    server_waited: float | None
    generator_waited: float | None

    @classmethod
    def now(cls, pid: int) -> Usage:
        return cls(
            at=time.perf_counter(),
            server_cpu=server_cpu(pid),
            generator_cpu=time.process_time(),
            server_waited=waited_for_a_core(pid),
            generator_waited=waited_for_a_core(os.getpid()),
        )

    def since(self, start: Usage) -> dict[str, float | None]:
        """Each as % of one core over the time from ``start`` to this."""
        window = self.at - start.at

        def waited(now: float | None, then: float | None) -> float | None:
            return None if now is None or then is None else percent(now - then, window)

        return {
            "server_cpu_sending_pct": percent(self.server_cpu - start.server_cpu, window),
            "generator_cpu_sending_pct": percent(self.generator_cpu - start.generator_cpu, window),
            "server_waited_pct": waited(self.server_waited, start.server_waited),
            "generator_waited_pct": waited(self.generator_waited, start.generator_waited),
        }
