"""Quick questions kept by an admin, on the fakes; the bot answers from what is stored."""

from __future__ import annotations

import pytest

from chatcore.bot import FaqEntry, display_order
from chatcore.errors import AdminOnly, FaqNotFound, InvalidInput, SlugTaken
from chatcore.usecases import admin, customer
from support.fakes import SAMPLE_FAQS, make_context
from support.usecase_people import first_admin, hire, say, start_chat


def test_an_admin_adds_a_question_last_and_the_bot_uses_it() -> None:
    ctx, _ = make_context()
    ada = first_admin(ctx)
    entry = admin.create_faq(
        ctx, ada.actor, slug="gift-cards", question="Do you sell gift cards?", answer="Yes!"
    )
    assert entry == FaqEntry("gift-cards", "Do you sell gift cards?", "Yes!", len(SAMPLE_FAQS))
    assert admin.list_faqs(ctx, ada.actor)[-1] == entry
    [reply] = say(ctx, start_chat(ctx), "gift cards?").replies
    assert reply.faq_slug == "gift-cards"


def test_bad_fields_a_taken_slug_and_non_admins_are_refused() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    bob = hire(ctx, ada, "Bob")
    with pytest.raises(InvalidInput) as refused:
        admin.create_faq(ctx, ada.actor, slug="Not A Slug", question=" ", answer="")
    assert set(refused.value.fields) == {"slug", "question", "answer"}
    with pytest.raises(SlugTaken):
        admin.create_faq(ctx, ada.actor, slug=SAMPLE_FAQS[0].slug, question="q", answer="a")
    with pytest.raises(AdminOnly):
        admin.create_faq(ctx, bob.actor, slug="new-one", question="q", answer="a")
    with pytest.raises(AdminOnly):
        admin.list_faqs(ctx, bob.actor)
    assert sorted(fakes.tables.faqs) == sorted(e.slug for e in SAMPLE_FAQS)


def test_update_changes_only_what_is_given_and_reorders() -> None:
    ctx, _ = make_context()
    ada = first_admin(ctx)
    first = SAMPLE_FAQS[0]
    updated = admin.update_faq(ctx, ada.actor, first.slug, answer="New answer.", position=99)
    assert updated == FaqEntry(first.slug, first.question, "New answer.", 99)
    assert customer.quick_questions(ctx)[-1] == updated
    with pytest.raises(FaqNotFound):
        admin.update_faq(ctx, ada.actor, "no-such", answer="x")


def test_deleting_keeps_the_slug_on_old_messages() -> None:
    ctx, fakes = make_context()
    ada = first_admin(ctx)
    chat = start_chat(ctx)
    gone = SAMPLE_FAQS[0]
    posted = customer.quick_reply(ctx, chat.conversation_id, gone.slug, session_id=chat.session_id)
    admin.delete_faq(ctx, ada.actor, gone.slug)
    assert customer.quick_questions(ctx) == display_order(SAMPLE_FAQS[1:])
    assert fakes.tables.messages[posted.replies[0].id].faq_slug == gone.slug
    with pytest.raises(FaqNotFound):
        admin.delete_faq(ctx, ada.actor, gone.slug)
    with pytest.raises(FaqNotFound):
        customer.quick_reply(ctx, chat.conversation_id, gone.slug, session_id=chat.session_id)
