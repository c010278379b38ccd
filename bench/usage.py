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


def machine_busy() -> float:
    """CPU seconds the whole machine has spent not idle, over all its cores (/proc/stat)."""
    fields = [int(f) for f in Path("/proc/stat").read_text().split("\n", 1)[0].split()[1:]]
    idle = fields[3] + (fields[4] if len(fields) > 4 else 0)  # idle + iowait
    # guest and guest_nice (fields 8, 9) are already inside user and nice.
    return (sum(fields[:8]) - idle) / os.sysconf("SC_CLK_TCK")


def cpu_by_pid(pids: list[int]) -> dict[int, float]:
    """User + system CPU seconds of each of ``pids`` still running (one gone is left out)."""
    seconds = {}
    for pid in pids:
        try:
            seconds[pid] = server_cpu(pid)
        except (OSError, IndexError, ValueError):
            continue
    return seconds


@dataclass(frozen=True)
class Others:
    """CPU of the processes besides the server and the generator that a phase keeps
    busy, by label: a second server instance, PostgreSQL's backends, Redis; and the
    whole machine's, so that what none of them used (other work) shows as well.

    Counted per process between two readings: one that started or ended in between
    (a database backend opened or closed by the server's pool) is left out, so the
    figure is a floor.
    """

    at: float
    cpu: dict[str, dict[int, float]]
    waited: dict[str, float | None]
    machine: float

    @classmethod
    def now(cls, watched: dict[str, list[int]], waits: tuple[str, ...] = ()) -> Others:
        """``waits``: the labels (each one process) whose run-queue time is read too."""
        return cls(
            at=time.perf_counter(),
            cpu={label: cpu_by_pid(pids) for label, pids in watched.items()},
            waited={label: waited_for_a_core(watched[label][0]) for label in waits},
            machine=machine_busy(),
        )

    def since(self, start: Others, suffix: str) -> dict[str, float | None]:
        """``<label>_cpu<suffix>``, % of one core over the time from ``start``, and
        ``machine_cpu<suffix>`` (every core's busy time, so up to 100 × cores); with the
        ``_sending_pct`` suffix also ``<label>_waited_pct`` for the labels in ``waits``."""
        window = self.at - start.at
        out: dict[str, float | None] = {
            f"machine_cpu{suffix}": percent(self.machine - start.machine, window)
        }
        for label, now in self.cpu.items():
            then = start.cpu.get(label, {})
            used = sum(now[pid] - then[pid] for pid in now if pid in then)
            out[f"{label}_cpu{suffix}"] = percent(used, window)
        if suffix == "_sending_pct":
            for label, waited in self.waited.items():
                before = start.waited.get(label)
                out[f"{label}_waited_pct"] = (
                    None if waited is None or before is None else percent(waited - before, window)
                )
        return out
