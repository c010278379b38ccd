"""What an admin does: keep the quick questions, see agents, deactivate one."""

from __future__ import annotations

import re
from collections.abc import Sequence
from dataclasses import dataclass
from itertools import count

from chatcore.agents import Agent, check_fields
from chatcore.bot import (
    ANSWER_MAX_CHARS,
    QUESTION_MAX_CHARS,
    SLUG_MAX_CHARS,
    SLUG_PATTERN,
    FaqEntry,
)
from chatcore.conversation import Status, hand_back, reassign
from chatcore.errors import (
    AdminOnly,
    AgentNotFound,
    CannotDeactivate,
    FaqNotFound,
    InvalidInput,
    SlugTaken,
)
from chatcore.events import AgentAccessRevoked, ConversationUpdated, MessageCreated
from chatcore.ports import UnitOfWork
from chatcore.usecases._assign import announce_assignment, free_agent, post_system_message
from chatcore.usecases._base import Context, Tx, full_view_of, require_agent, transaction
from chatcore.usecases.accounts import Actor

_SLUG = re.compile(SLUG_PATTERN)


def handed_back_text(agent: Agent) -> str:
    return (
        f"{agent.display_name} is no longer available and no other agent is free right now. "
        'The assistant is back; tap "Talk to an agent" to try again.'
    )


def _require_admin(uow: UnitOfWork, actor: Actor) -> Agent:
    agent = require_agent(uow, actor.agent_id)
    if not agent.is_admin:
        raise AdminOnly()
    return agent


def _text_problem(value: str | None, most: int) -> str | None:
    if value is None:
        return None
    if not value or value.isspace():
        return "must not be empty"
    return f"must be at most {most} characters" if len(value) > most else None


def _faq_problems(question: str | None, answer: str | None) -> dict[str, str | None]:
    return {
        "question": _text_problem(question, QUESTION_MAX_CHARS),
        "answer": _text_problem(answer, ANSWER_MAX_CHARS),
    }


def _slug_problem(slug: str) -> str | None:
    if len(slug) <= SLUG_MAX_CHARS and _SLUG.match(slug):
        return None
    return "must be lowercase words joined by hyphens, at most 64"


def list_faqs(ctx: Context, actor: Actor) -> list[FaqEntry]:
    with transaction(ctx, write=False) as tx:
        _require_admin(tx.uow, actor)
        return tx.uow.faqs.all()


def create_faq(
    ctx: Context,
    actor: Actor,
    *,
    slug: str,
    question: str,
    answer: str,
    position: int | None = None,
) -> FaqEntry:
    """A new quick question; without a position it goes last."""
    check_fields(slug=_slug_problem(slug), **_faq_problems(question, answer))
    with transaction(ctx) as tx:
        _require_admin(tx.uow, actor)
        if tx.uow.faqs.get(slug) is not None:
            raise SlugTaken()
        existing = tx.uow.faqs.all()
        if position is None:
            position = max((e.position for e in existing), default=-1) + 1
        entry = FaqEntry(slug, question, answer, position)
        tx.uow.faqs.add(entry)
        return entry


def update_faq(
    ctx: Context,
    actor: Actor,
    slug: str,
    *,
    question: str | None = None,
    answer: str | None = None,
    position: int | None = None,
) -> FaqEntry:
    check_fields(**_faq_problems(question, answer))
    with transaction(ctx) as tx:
        entry = tx.uow.faqs.get(slug)
        if entry is None:
            raise FaqNotFound()
        _require_admin(tx.uow, actor)
        entry.question = question if question is not None else entry.question
        entry.answer = answer if answer is not None else entry.answer
        entry.position = position if position is not None else entry.position
        tx.uow.faqs.save(entry)
        return entry


def delete_faq(ctx: Context, actor: Actor, slug: str) -> None:
    """Old messages keep their faq_slug: history is not rewritten."""
    with transaction(ctx) as tx:
        if tx.uow.faqs.get(slug) is None:
            raise FaqNotFound()
        _require_admin(tx.uow, actor)
        tx.uow.faqs.delete(slug)


@dataclass(frozen=True, slots=True)
class FaqDraft:
    """One entry of an import: a position of None keeps an entry's place, or puts a new one last."""

    slug: str
    question: str
    answer: str
    position: int | None = None


@dataclass(frozen=True, slots=True)
class FaqImport:
    created: list[str]
    updated: list[str]
    deleted: list[str]


def import_faqs(ctx: Context, entries: Sequence[FaqDraft], *, replace: bool) -> FaqImport:
    """Create or update quick questions by slug, from the server's shell (trusted: no actor).

    Every entry is checked as create_faq checks one, before anything is written;
    one bad entry and nothing is imported. ``replace`` deletes the entries the
    import does not name. One transaction: readers see all of it or none of it.
    """
    _check_drafts(entries)
    with transaction(ctx) as tx:
        existing = {entry.slug: entry for entry in tx.uow.faqs.all()}
        deleted = sorted(set(existing) - {d.slug for d in entries}) if replace else []
        for slug in deleted:
            tx.uow.faqs.delete(slug)
            del existing[slug]
        given = [d.position for d in entries if d.position is not None]
        places = count(max([*(e.position for e in existing.values()), *given], default=-1) + 1)
        created, updated = [], []
        for draft in entries:
            entry = existing.get(draft.slug)
            if entry is None:
                position = next(places) if draft.position is None else draft.position
                tx.uow.faqs.add(FaqEntry(draft.slug, draft.question, draft.answer, position))
                created.append(draft.slug)
            else:
                entry.question, entry.answer = draft.question, draft.answer
                entry.position = entry.position if draft.position is None else draft.position
                tx.uow.faqs.save(entry)
                updated.append(draft.slug)
        return FaqImport(created, updated, deleted)


def _check_drafts(entries: Sequence[FaqDraft]) -> None:
    fields: dict[str, str] = {}
    seen: set[str] = set()
    for index, draft in enumerate(entries):
        problems = _faq_problems(draft.question, draft.answer)
        problems["slug"] = _slug_problem(draft.slug)
        if draft.slug in seen:
            problems["slug"] = "appears more than once"
        seen.add(draft.slug)
        fields.update(
            {f"items[{index}].{name}": text for name, text in problems.items() if text is not None}
        )
    if fields:
        raise InvalidInput(fields, "Some quick questions are not valid; nothing was imported.")


def list_agents(ctx: Context, actor: Actor) -> list[Agent]:
    with transaction(ctx, write=False) as tx:
        _require_admin(tx.uow, actor)
        return tx.uow.agents.all()


def deactivate_agent(ctx: Context, actor: Actor, agent_id: str) -> Agent:
    """Lock the agent out and give each of its open chats to someone free, or back to the bot."""
    with transaction(ctx) as tx:
        agent = tx.uow.agents.get(agent_id)
        if agent is None:
            raise AgentNotFound()
        admin = _require_admin(tx.uow, actor)
        if agent.id == admin.id:
            raise CannotDeactivate("You cannot deactivate yourself.")
        if not agent.active:
            return agent
        # The contract's "not the last active admin" needs no check of its own: the
        # caller is an active admin and not the one leaving, so one always remains.
        agent.active = False
        tx.uow.agents.save(agent)
        tx.uow.tokens.revoke_all(agent.id)
        tx.record(AgentAccessRevoked(agent.id))
        for conversation in tx.uow.conversations.held_by(agent.id, status=Status.AGENT):
            _hand_over(ctx, tx, conversation_id=conversation.id, leaving=agent)
        return agent


def _hand_over(ctx: Context, tx: Tx, *, conversation_id: str, leaving: Agent) -> None:
    conversation = tx.uow.conversations.get(conversation_id)
    if conversation is None:
        return
    now = ctx.clock.now()
    successor = free_agent(ctx, tx, now=now, excluding=leaving.id)
    if successor is not None:
        reassign(conversation, agent_id=successor.id, now=now)
        announce_assignment(
            ctx,
            tx,
            conversation,
            successor,
            now=now,
            previous_agent_id=leaving.id,
            status_changed=False,
        )
        return
    hand_back(conversation, now=now)
    message = post_system_message(ctx, tx, conversation, handed_back_text(leaving), now=now)
    tx.uow.conversations.save(conversation)
    view = full_view_of(tx.uow, conversation)
    tx.record(
        MessageCreated(message, None),
        ConversationUpdated(view, status_changed=True, previous_agent_id=leaving.id),
    )
