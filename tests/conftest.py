"""Fixtures every test folder shares: real servers on loopback (see support/servers.py).

``make_server(**overrides)`` starts one with Settings fields overridden (native
values: ``agent_capacity=2``, ``trust_proxy=True``); ``live_server`` is one with
the defaults. Each has its own SQLite file in tmp_path and bcrypt at 4 rounds, and
rate limits off: tests that count them turn them on (``rate_limits=True``, and
``limits=Limits(...)`` for smaller numbers).
"""

from __future__ import annotations

from collections.abc import Callable, Iterator
from contextlib import ExitStack
from dataclasses import replace
from itertools import count
from pathlib import Path
from typing import Any

import pytest

from adapters.ratelimit import Limits
from entrypoints.settings import Settings
from support.servers import LiveServer, running


@pytest.fixture
def make_server(tmp_path: Path) -> Iterator[Callable[..., LiveServer]]:
    numbers = count()
    with ExitStack() as stack:

        def make(*, limits: Limits | None = None, **overrides: Any) -> LiveServer:
            base = Settings(
                database=str(tmp_path / f"chatcore-{next(numbers)}.db"),
                bcrypt_rounds=4,
                rate_limits=False,
            )
            return stack.enter_context(running(replace(base, **overrides), limits=limits))

        yield make


@pytest.fixture
def live_server(make_server: Callable[..., LiveServer]) -> LiveServer:
    return make_server()
