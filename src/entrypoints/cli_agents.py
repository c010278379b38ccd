"""``chatcore agent create``: make an agent from the server's shell (the trusted operator)."""

from __future__ import annotations

import argparse
import getpass
import sys
from typing import TextIO

from chatcore.agents import Role
from chatcore.usecases import accounts
from entrypoints.cli_common import CliError, add_setting, opened_core


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    agent = commands.add_parser("agent", help="manage agent accounts")
    actions = agent.add_subparsers(dest="action", required=True, metavar="ACTION")
    create = actions.add_parser(
        "create",
        help="create an agent; the password is asked for, or read from standard input",
        description="The password is never taken from the command line (it would show in "
        "the process list and the shell history): it is asked for twice on a terminal, "
        "or read from the first line of standard input otherwise.",
    )
    create.add_argument("--email", required=True)
    create.add_argument("--name", required=True, help="the display name customers see")
    create.add_argument("--admin", action="store_true", help="make an admin")
    add_setting(create, "database")
    create.set_defaults(run=create_agent)


def create_agent(args: argparse.Namespace) -> int:
    password = read_password(sys.stdin)
    role = Role.ADMIN if args.admin else Role.AGENT
    with opened_core(args) as core:
        agent = accounts.create_agent_as_operator(
            core.ctx, email=args.email, password=password, display_name=args.name, role=role
        )
    print(f"Created {agent.role.value} {agent.display_name} <{agent.email}> (id {agent.id})")
    return 0


def read_password(stdin: TextIO) -> str:
    if stdin.isatty():
        first = getpass.getpass("Password: ")
        if getpass.getpass("Password (again): ") != first:
            raise CliError("The passwords do not match.")
        return first
    line = stdin.readline()
    if not line:
        raise CliError("No password: give it on the first line of standard input.")
    return line.rstrip("\r\n")
