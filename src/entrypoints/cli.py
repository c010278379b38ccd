"""The ``chatcore`` command: serve the app, and the operator's commands from the server's shell.

Exit codes: 0 done, 1 refused (a domain error or a bad input file, said on stderr),
2 usage (unknown option, bad setting).
"""

from __future__ import annotations

import argparse
import sys
from collections.abc import Sequence
from importlib import metadata

from chatcore.errors import DomainError, InvalidInput
from chatcore.ports import StorageUnavailable
from entrypoints import cli_agents, cli_db, cli_faq, cli_serve
from entrypoints.cli_common import CliError
from entrypoints.settings import SettingsError

USAGE_ERROR = 2
REFUSED = 1


def main(argv: Sequence[str] | None = None) -> int:
    parser = _parser()
    try:
        args = parser.parse_args(argv)
    except SystemExit as stop:  # argparse: 2 for usage, 0 for --help
        return stop.code if isinstance(stop.code, int) else USAGE_ERROR
    try:
        code: int = args.run(args)
        return code
    except SettingsError as error:
        _say(error.message)
        return USAGE_ERROR
    except (DomainError, CliError) as error:
        _say(_describe(error))
        return REFUSED
    except StorageUnavailable as error:  # a PostgreSQL server down or unreachable
        _say(str(error))
        return REFUSED
    except KeyboardInterrupt:
        return 130


def _say(text: str) -> None:
    print(f"chatcore: {text}", file=sys.stderr)


def _describe(error: Exception) -> str:
    message = str(error)
    if isinstance(error, InvalidInput):
        details = "".join(f"\n  {name}: {problem}" for name, problem in error.fields.items())
        return message + details
    return message


def _parser() -> argparse.ArgumentParser:
    parser = argparse.ArgumentParser(
        prog="chatcore",
        description="Self-hosted customer-support live chat. Every option has a CHATCORE_* "
        "variable; the command line wins.",
    )
    parser.add_argument("--version", action="version", version=_version())
    commands = parser.add_subparsers(dest="command", required=True, metavar="COMMAND")
    cli_serve.add_commands(commands)
    cli_agents.add_commands(commands)
    cli_faq.add_commands(commands)
    cli_db.add_commands(commands)
    return parser


def _version() -> str:
    try:
        return f"chatcore {metadata.version('chatcore')}"
    except metadata.PackageNotFoundError:
        return "chatcore (not installed)"


if __name__ == "__main__":
    sys.exit(main())
