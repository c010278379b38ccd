"""``chatcore faq import|export``: the quick questions as a JSON file, for the operator."""

from __future__ import annotations

import argparse
import json
import sys
from pathlib import Path
from typing import Any

from chatcore.usecases import admin, customer
from entrypoints.cli_common import CliError, add_setting, opened_core

TEXT_FIELDS = ("slug", "question", "answer")
KNOWN_FIELDS = {*TEXT_FIELDS, "position"}


def add_commands(commands: argparse._SubParsersAction[argparse.ArgumentParser]) -> None:
    faq = commands.add_parser("faq", help="import or export the quick questions")
    actions = faq.add_subparsers(dest="action", required=True, metavar="ACTION")
    load = actions.add_parser(
        "import",
        help="create or update quick questions by slug from a JSON file",
        description='FILE holds {"items": [{"slug", "question", "answer", "position"?}…]} '
        "or just the list. Every entry is checked first: one bad entry and nothing is imported.",
    )
    load.add_argument("file", metavar="FILE")
    load.add_argument("--replace", action="store_true", help="delete entries not in FILE")
    add_setting(load, "database")
    load.set_defaults(run=import_faqs)
    dump = actions.add_parser("export", help="write the quick questions as JSON to stdout")
    add_setting(dump, "database")
    dump.set_defaults(run=export_faqs)


def import_faqs(args: argparse.Namespace) -> int:
    drafts = read_drafts(Path(args.file))
    with opened_core(args) as core:
        done = admin.import_faqs(core.ctx, drafts, replace=args.replace)
    print(
        f"Imported {len(drafts)} quick questions: {len(done.created)} created, "
        f"{len(done.updated)} updated, {len(done.deleted)} deleted."
    )
    return 0


def export_faqs(args: argparse.Namespace) -> int:
    with opened_core(args) as core:
        entries = customer.quick_questions(core.ctx)  # every field, in display order
    items = [
        {"slug": e.slug, "question": e.question, "answer": e.answer, "position": e.position}
        for e in entries
    ]
    json.dump({"items": items}, sys.stdout, indent=2, ensure_ascii=False)
    sys.stdout.write("\n")
    return 0


def read_drafts(path: Path) -> list[admin.FaqDraft]:
    try:
        data = json.loads(path.read_text(encoding="utf-8"))
    except OSError as error:
        raise CliError(f"Cannot read {path}: {error.strerror}.") from None
    except (UnicodeDecodeError, json.JSONDecodeError) as error:
        raise CliError(f"{path} is not valid JSON: {error}.") from None
    items = data.get("items") if isinstance(data, dict) and set(data) == {"items"} else data
    if not isinstance(items, list):
        raise CliError(f'{path} must hold {{"items": [...]}} or a list of entries.')
    problems = [p for index, item in enumerate(items) for p in _entry_problems(index, item)]
    if problems:
        raise CliError(
            f"{path} has bad entries; nothing was imported:" + "".join(f"\n  {p}" for p in problems)
        )
    return [admin.FaqDraft(**item) for item in items]


def _entry_problems(index: int, item: Any) -> list[str]:
    where = f"items[{index}]"
    if not isinstance(item, dict):
        return [f"{where}: must be an object"]
    problems = [f"{where}.{key}: unknown field" for key in sorted(item.keys() - KNOWN_FIELDS)]
    for key in TEXT_FIELDS:
        if key not in item:
            problems.append(f"{where}.{key}: is required")
        elif not isinstance(item[key], str):
            problems.append(f"{where}.{key}: must be a string")
    position = item.get("position")
    if position is not None and (not isinstance(position, int) or isinstance(position, bool)):
        problems.append(f"{where}.position: must be an integer")
    return problems
