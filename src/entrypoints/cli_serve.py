"""``chatcore serve``: the API, the WebSocket and the web pages from one process (uvicorn)."""

from __future__ import annotations

import argparse
import signal
import socket
import sys
import threading
from collections.abc import Iterator
from contextlib import contextmanager
from types import FrameType

import uvicorn

from entrypoints.bootstrap import build
from entrypoints.cli_common import CliError, add_setting, settings_from
from entrypoints.server import uvicorn_config

STARTUP_FAILED = 1


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    serve = commands.add_parser("serve", help="serve the API, the WebSocket and the web pages")
    for name in ("host", "port", "database", "token_ttl_seconds", "agent_capacity"):
        add_setting(serve, name)
    add_setting(serve, "presence_grace_seconds")
    add_setting(serve, "allowed_origins", metavar="ORIGIN[,ORIGIN…]")
    add_setting(serve, "rate_limits", metavar="on|off")
    add_setting(serve, "trust_proxy", metavar="on|off")
    for name in ("bcrypt_rounds", "heartbeat_seconds", "typing_timeout_seconds"):
        add_setting(serve, name)
    add_setting(serve, "ws_queue_frames")
    add_setting(serve, "instance_timeout_seconds")
    add_setting(serve, "header_timeout_seconds")
    serve.set_defaults(run=serve_forever)


SWITCH_INTERVAL_SECONDS = 0.001


def serve_forever(args: argparse.Namespace) -> int:
    """Serve until SIGINT or SIGTERM; a stop by signal is a normal end (exit 0)."""
    settings = settings_from(args)
    # The port first: on a taken one, nothing is said to serve and nothing is made
    # (no database file, no secret file) before the refusal.
    listening = _listen(settings.host, settings.port)
    try:
        chatcore = build(settings)
    except BaseException:
        listening.close()
        raise
    config = uvicorn_config(chatcore.app, settings)
    server = uvicorn.Server(config)
    # The event loop shares the GIL with the worker threads running use cases; by
    # default a thread that wants it back waits 5 ms per turn. At 1 ms the loop gets
    # its turn sooner: measured at 500 msg/s, delivery max fell from 35-70 ms to
    # under 26 ms across runs, for about the same CPU.
    sys.setswitchinterval(SWITCH_INTERVAL_SECONDS)
    host = f"[{settings.host}]" if ":" in settings.host else settings.host
    print(f"chatcore serving http://{host}:{settings.port} (database {settings.database})")
    sys.stdout.flush()
    try:
        with _stop_signals_end_normally():
            server.run(sockets=[listening])
    except _Stopped:
        pass
    finally:
        chatcore.close()
        listening.close()
    return 0 if server.started else STARTUP_FAILED


def _listen(host: str, port: int) -> socket.socket:
    """The server's socket, bound as uvicorn would bind it, or a clear refusal."""
    family = socket.AF_INET6 if ":" in host else socket.AF_INET
    listening = socket.socket(family, socket.SOCK_STREAM)
    listening.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
    try:
        listening.bind((host, port))
    except OSError as error:
        listening.close()
        reason = error.strerror or str(error)
        raise CliError(f"cannot serve on {host} port {port}: {reason}") from None
    listening.set_inheritable(True)
    return listening


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
