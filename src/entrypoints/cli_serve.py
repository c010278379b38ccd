"""``chatcore serve``: the API, the WebSocket and the web pages from one process (uvicorn)."""

from __future__ import annotations

import argparse
import signal
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from entrypoints.bootstrap import build
from entrypoints.cli_common import add_setting, settings_from

# Open WebSockets get this long to finish before a stop forces them shut.
GRACEFUL_SHUTDOWN_SECONDS = 10
STARTUP_FAILED = 1


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve the API, the WebSocket and the web pages")
    for name in ("host", "port", "database", "token_ttl_seconds", "agent_capacity"):
        add_setting(serve, name)
    add_setting(serve, "presence_grace_seconds")
    add_setting(serve, "allowed_origins", metavar="ORIGIN[,ORIGIN…]")
    add_setting(serve, "rate_limits", metavar="on|off")
    add_setting(serve, "trust_proxy", metavar="on|off")
    add_setting(serve, "bcrypt_rounds")
    serve.set_defaults(run=serve_forever)


def serve_forever(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; a stop by signal is a normal end (exit 0)."""
    settings = settings_from(args)
    chatcore = build(settings)
    config = uvicorn.Config(
        chatcore.app,
        host=settings.host,
        port=settings.port,
        log_level="info",
        # Per-message deflate costs CPU on every frame for small JSON; and compressing
        # secrets next to attacker-chosen text invites CRIME-style guessing.
        ws_per_message_deflate=False,
        # Only behind a proxy may X-Forwarded-For name the client (uvicorn trusts
        # FORWARDED_ALLOW_IPS, 127.0.0.1 by default); otherwise anyone could forge it.
        proxy_headers=settings.trust_proxy,
        timeout_graceful_shutdown=GRACEFUL_SHUTDOWN_SECONDS,
    )
    server = uvicorn.Server(config)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"chatcore serving http://{host}:{settings.port} (database {settings.database})")
    sys.stdout.flush()
    try:
        with _stop_signals_end_normally():
            server.run()
    except _Stopped:
        pass
    finally:
        chatcore.close()
    return 0 if server.started else STARTUP_FAILED


class _Stopped(Exception):
    """SIGINT or SIGTERM after uvicorn's graceful shutdown."""


@contextmanager
def _stop_signals_end_normally() -> Iterator[None]:
    """Make a stop signal end ``serve`` through its ``finally`` (storage closed).

    uvicorn catches SIGINT/SIGTERM, shuts down gracefully, then re-raises the signal
    under the handlers it found. Under the default ones SIGTERM would kill the
    process before the database is closed, so the handlers it finds are these.
    """
    if threading.current_thread() is not threading.main_thread():
        yield
        return

    def stop(signum: int, frame: FrameType | None) -> None:
        raise _Stopped()

    previous = {sig: signal.signal(sig, stop) for sig in (signal.SIGINT, signal.SIGTERM)}
    try:
        yield
    finally:
        for sig, handler in previous.items():
            signal.signal(sig, handler)
