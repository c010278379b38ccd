"""What the CLI's commands share: settings from options, and opening the core for a command."""

from __future__ import annotations

import argparse
import os
from collections.abc import Iterator
from contextlib import contextmanager

from entrypoints.bootstrap import Core, build_context
from entrypoints.settings import PARSERS, Settings, env_name, option_name


class CliError(Exception):
    """The command cannot go on (a bad input file, mismatched passwords): exit 1."""


def add_setting(parser: argparse.ArgumentParser, name: str, *, metavar: str | None = None) -> None:
    """An option for one setting, kept raw: Settings.load parses options and variables alike."""
    default = _shown(getattr(Settings(), name))
    parser.add_argument(
        option_name(name),
        dest=name,
        metavar=metavar or name.upper(),
        help=f"else ${env_name(name)}" + (f", else {default}" if default else ""),
    )


def _shown(default: object) -> str:
    if isinstance(default, bool):
        return "on" if default else "off"
    if isinstance(default, tuple):
        return ",".join(default)
    return "" if default is None else str(default)


def settings_from(args: argparse.Namespace) -> Settings:
    options = {name: getattr(args, name, None) for name in PARSERS}
    return Settings.load(options, os.environ)


@contextmanager
def opened_core(args: argparse.Namespace) -> Iterator[Core]:
    """The use cases over the configured database, without the web app; closed afterwards."""
    core = build_context(settings_from(args))
    try:
        yield core
    finally:
        core.close()
