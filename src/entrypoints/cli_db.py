"""``chatcore db copy``: move a SQLite file's data into a new PostgreSQL database.

Thin on purpose: the copy itself is adapters/migrate_store.py. Here the options are
checked (a wrong path or URL is bad usage, exit 2) and the outcome is told.
"""

from __future__ import annotations

import argparse
from pathlib import Path

from adapters.migrate_store import CopyRefused, SourceMissing, copy_sqlite_to_postgres
from entrypoints.cli_common import CliError
from entrypoints.settings import SettingsError, is_postgres


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    db = commands.add_parser("db", help="move the data to another database")
    actions = db.add_subparsers(dest="action", required=True, metavar="ACTION")
    copy = actions.add_parser(
        "copy",
        help="copy a SQLite file into a new PostgreSQL database",
        description="Copies every agent, conversation, message, customer session and quick "
        "question, ids and seq intact, in one transaction. The target must be new: it may "
        "hold only the default quick questions, which the source's replace. Access tokens "
        "are not copied: agents sign in again. Stop the server first.",
    )
    copy.add_argument(
        "--from",
        dest="source",
        required=True,
        metavar="PATH",
        type=_existing_file,
        help="the SQLite file (chatcore.db); never created, never written",
    )
    copy.add_argument(
        "--to",
        dest="target",
        required=True,
        metavar="URL",
        type=_postgres_url,
        help="postgresql://user:password@host:port/dbname (the database must exist)",
    )
    copy.set_defaults(run=copy_database)


def _existing_file(value: str) -> Path:
    # Checked while parsing, so a typo is bad usage (exit 2) before anything is opened.
    path = Path(value)
    if not path.is_file():
        raise argparse.ArgumentTypeError(f"{value}: no such SQLite file")
    return path


def _postgres_url(value: str) -> str:
    if not is_postgres(value):
        raise argparse.ArgumentTypeError(f"{value}: not a postgresql:// URL")
    return value


def copy_database(args: argparse.Namespace) -> int:
    try:
        report = copy_sqlite_to_postgres(args.source, target_url=args.target)
    except SourceMissing as error:  # gone between parsing and opening
        raise SettingsError(str(error)) from None
    except CopyRefused as error:
        raise CliError(str(error)) from None
    print(
        f"copied {report.agents} agents, {report.conversations} conversations, "
        f"{report.messages} messages, {report.faqs} quick questions "
        f"(and {report.sessions} customer sessions)."
    )
    print(
        "Access tokens were not copied: every agent signs in again. Serve with "
        "CHATCORE_DATABASE set to the new URL and CHATCORE_SECRET_KEY set."
    )
    return 0
