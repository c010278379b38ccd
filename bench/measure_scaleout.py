"""Scale-out: delivery and saturation on PostgreSQL, one process and two instances.

The same traffic as measure_delivery.py (its generator, rates and ladder), against:

- **PostgreSQL, one process**: one ``chatcore serve`` with ``CHATCORE_DATABASE``
  a PostgreSQL database and no Redis: the price of the database next to the
  SQLite figures of the delivery measurement in the same run;
- **two instances**: two ``chatcore serve`` on one PostgreSQL database and one
  Redis (``CHATCORE_REDIS_URL``, a namespace of this run's own, one secret key):
  every customer on instance A (start, escalation, socket, posts), every agent
  on instance B (login, presence, socket, posts), so each message crosses from
  one instance to the other through Redis.

Each gets a fresh database, ``chatcore_bench_<random>``, dropped afterwards. The
generator also reads the CPU of the second instance, of PostgreSQL's backends of
that database and of Redis (when it runs on this machine), so the ladder can
say whether one process or all of them together filled the cores. The server
logs are read afterwards: warnings, errors and 5xx answers are counted, and a
log with any is kept (its path in the result).

PostgreSQL and Redis are required: unreachable, the measurement fails with the
reason (``run.py`` records it). Where they are: ``CHATCORE_BENCH_POSTGRESQL``
(an admin URL; else ``CHATCORE_TEST_POSTGRESQL``, else the local server's
``test`` database) and ``CHATCORE_BENCH_REDIS`` (else ``CHATCORE_TEST_REDIS``,
else the local server's database 0).

    .venv/bin/python bench/measure_scaleout.py [--tiny | --full]
"""

from __future__ import annotations

import argparse
import os
import re
import secrets
import shutil
import tempfile
import time
import uuid
from collections.abc import Iterator
from contextlib import ExitStack, contextmanager
from pathlib import Path
from typing import Any
from urllib.parse import urlsplit, urlunsplit

import httpx
import psycopg
import redis
from measure_delivery import load
from server import Server, chatcore_server
from sizes import QUICK, SIZES, Size

NAME = "scaleout"
ADMIN_URL = os.environ.get(
    "CHATCORE_BENCH_POSTGRESQL",
    os.environ.get("CHATCORE_TEST_POSTGRESQL", "postgresql://postgres@127.0.0.1:5432/test"),
)
REDIS_URL = os.environ.get(
    "CHATCORE_BENCH_REDIS", os.environ.get("CHATCORE_TEST_REDIS", "redis://127.0.0.1:6379/0")
)
# The two setups, in the order the report shows them after delivery's SQLite figures.
MODES = {
    "postgresql": "PostgreSQL, one process",
    "two_instances": "two instances (PostgreSQL + Redis)",
}
READY_SECONDS = 30
KEPT_PROBLEM_LINES = 8
# A server log is uvicorn's "INFO:" lines (the access log among them) after one
# "chatcore serving" line. Anything else is worth a look: uvicorn's warnings and
# errors, and chatcore's own (no handler is configured for its loggers, so Python
# prints their warnings and errors bare, tracebacks and all).
USUAL = ("INFO:", "chatcore serving ")
SERVER_ERROR = re.compile(r'^INFO: .*" 5\d\d\b')


# ---------------------------------------------------------------- PostgreSQL and Redis


def require_services() -> dict[str, Any]:
    """Both servers' versions; a RuntimeError saying what is missing if one does not answer."""
    try:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            row = admin.execute("SHOW server_version").fetchone()
    except psycopg.Error as error:
        raise RuntimeError(
            f"PostgreSQL is not reachable at {_redacted(ADMIN_URL)} ({error}). The scale-out "
            "benchmark needs it: start it (.ci/run does), or point CHATCORE_BENCH_POSTGRESQL "
            "at a server where this user may create databases."
        ) from None
    try:
        info = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=5).info("server")
    except redis.RedisError as error:
        raise RuntimeError(
            f"Redis is not reachable at {REDIS_URL} ({error}). The scale-out benchmark "
            "needs it: start it (redis-server; .ci/run does), or point CHATCORE_BENCH_REDIS "
            "at a server."
        ) from None
    local = urlsplit(REDIS_URL).hostname in ("127.0.0.1", "localhost", "::1")
    pid = int(info.get("process_id", 0))
    return {
        "postgresql_version": None if row is None else str(row[0]),
        "redis_version": str(info.get("redis_version")),
        # Its CPU is read from /proc only when it runs here.
        "redis_pid": pid if local and pid and Path(f"/proc/{pid}/stat").exists() else None,
    }


def _redacted(url: str) -> str:
    parts = urlsplit(url)
    host = parts.hostname or ""
    netloc = f"{parts.username}@{host}" if parts.username else host
    if parts.port:
        netloc += f":{parts.port}"
    return urlunsplit((parts.scheme, netloc, parts.path, "", ""))


def url_for(database: str) -> str:
    """ADMIN_URL naming another database on the same server."""
    parts = urlsplit(ADMIN_URL)
    return urlunsplit((parts.scheme, parts.netloc, "/" + database, parts.query, ""))


@contextmanager
def scratch_database() -> Iterator[str]:
    """A new, empty database's name; dropped, connections and all, afterwards."""
    name = f"chatcore_bench_{uuid.uuid4().hex[:12]}"
    with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
        admin.execute(f'CREATE DATABASE "{name}"')
    try:
        yield name
    finally:
        with psycopg.connect(ADMIN_URL, autocommit=True, connect_timeout=5) as admin:
            admin.execute(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def wait_ready(server: Server) -> None:
    """Until /readyz answers 200: storage and, with Redis, the event bus are up."""
    deadline = time.monotonic() + READY_SECONDS
    while True:
        try:
            if httpx.get(server.url + "/readyz", timeout=5).status_code == 200:
                return
        except httpx.TransportError:
            pass
        if time.monotonic() > deadline:
            raise RuntimeError(f"{server.url}/readyz did not answer 200 in {READY_SECONDS} s")
        time.sleep(0.1)


# ------------------------------------------------------------------------ server logs


def read_log(path: Path, keep: Path) -> dict[str, Any]:
    """What a stopped server's log holds beyond the usual (see ``USUAL``): how many
    such lines, tracebacks among them, and 5xx answers in the access log, with the
    first few unusual lines that are not a traceback's inner lines. With any of
    these, the log is copied to ``keep``, which the result names."""
    text = path.read_text(errors="replace") if path.exists() else ""
    lines = text.splitlines()
    unusual = [line for line in lines if line.strip() and not line.startswith(USUAL)]
    headlines = [line for line in unusual if not line.startswith((" ", "\t"))]
    answered_5xx = sum(1 for line in lines if SERVER_ERROR.search(line))
    found: dict[str, Any] = {
        "lines": len(lines),
        "unusual_lines": len(unusual),
        "tracebacks": sum(1 for line in unusual if line.startswith("Traceback")),
        "http_5xx": answered_5xx,
        "first_unusual": [line[:300] for line in headlines[:KEPT_PROBLEM_LINES]],
        "kept": None,
    }
    if unusual or answered_5xx:
        keep.parent.mkdir(parents=True, exist_ok=True)
        shutil.copyfile(path, keep)
        found["kept"] = str(keep)
    return found


@contextmanager
def logs_kept_on_failure(logs: dict[str, Path], keep: Path) -> Iterator[None]:
    """A failure inside (the generator's, say) keeps the server logs, and says where."""
    try:
        yield
    except Exception as error:
        keep.mkdir(parents=True, exist_ok=True)
        for name, path in logs.items():
            if path.exists():
                shutil.copyfile(path, keep / name)
        raise RuntimeError(f"{error}\n(server logs kept in {keep})") from error


# ------------------------------------------------------------------------------ modes


def one_process(size: Size, logs: Path, keep: Path) -> dict[str, Any]:
    """One ``chatcore serve`` on a fresh PostgreSQL database, no Redis."""
    with scratch_database() as name:
        log = logs / "postgresql.log"
        env = {"CHATCORE_SECRET_KEY": secrets.token_urlsafe(48)}  # PostgreSQL needs one
        with chatcore_server(env_extra=env, database=url_for(name), log=log) as server:
            wait_ready(server)
            extra = {"postgresql": {"url": ADMIN_URL, "database": name}}
            with logs_kept_on_failure({"postgresql.log": log}, keep):
                result = load("chatcore", server, size, extra)
    result["server_logs"] = {"server": read_log(log, keep / "postgresql.log")}
    return result


def two_instances(size: Size, services: dict[str, Any], logs: Path, keep: Path) -> dict[str, Any]:
    """Two ``chatcore serve`` on one fresh database and Redis: customers on A, agents on B."""
    namespace = f"bench{uuid.uuid4().hex[:12]}"  # apart from any other run on this Redis
    env = {
        "CHATCORE_SECRET_KEY": secrets.token_urlsafe(48),  # both sign and check tokens with it
        "CHATCORE_REDIS_URL": REDIS_URL,
        "CHATCORE_REDIS_NAMESPACE": namespace,
    }
    with scratch_database() as name, ExitStack() as stack:
        database = url_for(name)
        # One after the other: the first to start migrates the fresh database.
        a = stack.enter_context(
            chatcore_server(env_extra=env, database=database, log=logs / "a.log")
        )
        wait_ready(a)
        b = stack.enter_context(
            chatcore_server(env_extra=env, database=database, log=logs / "b.log")
        )
        wait_ready(b)
        extra: dict[str, Any] = {
            "agent_url": b.url,
            "agent_ws_url": b.ws_url,
            "agent_pid": b.pid,
            "postgresql": {"url": ADMIN_URL, "database": name},
        }
        if services["redis_pid"]:
            extra["watch"] = {"redis": [services["redis_pid"]]}
        both = {"two-instances-a.log": logs / "a.log", "two-instances-b.log": logs / "b.log"}
        with logs_kept_on_failure(both, keep):
            result = load("chatcore", a, size, extra)
        result["agent_server_rss_kib"] = b.rss_kib()
    result["redis_namespace"] = namespace
    result["server_logs"] = {
        "customers (A)": read_log(logs / "a.log", keep / "two-instances-a.log"),
        "agents (B)": read_log(logs / "b.log", keep / "two-instances-b.log"),
    }
    return result


def side_by_side(modes: dict[str, dict[str, Any]]) -> list[dict[str, Any]]:
    """One row per delivery rate: each setup's p50, p99, max and faults at it."""
    rates = sorted({float(p["rate"]) for part in modes.values() for p in part["rates"]})
    rows = []
    for rate in rates:
        row: dict[str, Any] = {"rate": rate}
        for mode, part in modes.items():
            phase = next((p for p in part["rates"] if float(p["rate"]) == rate), None)
            row[mode] = None
            if phase is not None:
                row[mode] = {
                    key: phase[key]
                    for key in ("p50_ms", "p99_ms", "max_ms", "lost", "duplicated", "out_of_order")
                }
        rows.append(row)
    return rows


def run(size: Size) -> dict[str, Any]:
    services = require_services()
    stamp = time.strftime("%Y%m%dT%H%M%S")
    keep = Path(tempfile.gettempdir()) / f"chatcore-scaleout-logs-{stamp}-{uuid.uuid4().hex[:6]}"
    with tempfile.TemporaryDirectory(prefix="chatcore-scaleout-") as scratch:
        logs = Path(scratch)
        modes = {
            "postgresql": one_process(size, logs, keep),
            "two_instances": two_instances(size, services, logs, keep),
        }
    return {
        "size": size.name,
        "conversations": size.delivery_conversations,
        "agents": size.delivery_agents,
        "postgresql_version": services["postgresql_version"],
        "redis_version": services["redis_version"],
        **modes,
        "side_by_side": side_by_side(modes),
        "saturation": {
            mode: {
                key: part["saturation"][key]
                for key in ("highest_rate", "first_failed_rate", "limited_by", "limit_reason")
            }
            for mode, part in modes.items()
        },
    }


def _print(result: dict[str, Any]) -> None:
    for mode, label in MODES.items():
        part = result[mode]
        print(f"{label}: {part['conversations']} conversations, setup {part['setup_seconds']} s")
        steps = [s for s in part["saturation"]["steps"] if not s["reused"]]
        for r in part["rates"] + steps:
            print(
                f"  {r['rate']:>6}/s  p50 {r['p50_ms']} ms  p99 {r['p99_ms']} ms"
                f"  max {r['max_ms']} ms  achieved {r['achieved_rate']}/s  lost {r['lost']}"
                f"  dup {r['duplicated']}  ooo {r['out_of_order']}  errors {r['post_errors']}"
                f"  server CPU {r['server_cpu_sending_pct']}%"
                f"  agents' instance {r.get('agent_server_cpu_sending_pct', '-')}%"
                f"  PostgreSQL {r.get('postgresql_cpu_sending_pct')}%"
                f"  Redis {r.get('redis_cpu_sending_pct', '-')}%"
                f"  generator {r['generator_cpu_sending_pct']}%"
            )
        sat = part["saturation"]
        print(f"  saturation: {sat['highest_rate']}/s (limited by the {sat['limited_by']})")
        print(f"    {sat['limit_reason']}")
        for who, found in part["server_logs"].items():
            print(f"  log of {who}: {found}")


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--tiny", action="store_true")
    parser.add_argument("--full", action="store_true")
    args = parser.parse_args()
    size = SIZES["tiny"] if args.tiny else SIZES["full"] if args.full else QUICK
    _print(run(size))


if __name__ == "__main__":
    main()
