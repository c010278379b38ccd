"""The widget's endpoints: no login, a session header, any web origin."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response

from adapters.http.auth import Auth
from adapters.http.endpoint import Audience, Call, Endpoint
from adapters.http.responses import (
    MessagePageOut,
    PostedOut,
    QuickQuestionList,
    Started,
    created_or_retried,
    json,
    message_page_out,
    posted_out,
)
from adapters.http.schemas import MessagesQuery, PostMessage, StartConversation
from adapters.http.throttle import Throttle
from adapters.threads import run
from adapters.wire import ConversationOut, conversation_out, message_out, quick_question_out
from chatcore.usecases import customer

PREFIX = "/api/v1/customer"
CONVERSATION = PREFIX + "/conversations/{id}"
RETRY = "A retry with a known client_message_id: what was stored then, nothing new"


async def quick_questions(call: Call) -> Response:
    entries = await run(customer.quick_questions, call.ctx)
    return json(QuickQuestionList([quick_question_out(e) for e in entries]))


async def start_conversation(call: Call) -> Response:
    body = call.body_as(StartConversation)
    started = await run(
        customer.start_conversation,
        call.ctx,
        session_id=call.session_id,
        display_name=body.display_name,
        email=body.email,
    )
    answer = Started(
        customer_session_id=started.session_id,
        conversation=conversation_out(started.view),
        messages=[message_out(m) for m in started.messages],
        quick_questions=[quick_question_out(e) for e in started.quick_questions],
    )
    return json(answer, 201)


async def get_conversation(call: Call) -> Response:
    view = await run(
        customer.get_conversation, call.ctx, call.path("id"), session_id=call.session_id
    )
    return json(conversation_out(view))


async def customer_messages(call: Call) -> Response:
    query = call.query_as(MessagesQuery)
    page = await run(
        customer.conversation_messages,
        call.ctx,
        call.path("id"),
        session_id=call.session_id,
        after_seq=query.after_seq,
        limit=query.limit,
    )
    return json(message_page_out(page))


async def post_customer_message(call: Call) -> Response:
    body = call.body_as(PostMessage)
    posted = await run(
        customer.post_customer_message,
        call.ctx,
        call.path("id"),
        session_id=call.session_id,
        body=body.body,
        client_message_id=body.client_message_id,
    )
    return json(posted_out(posted), created_or_retried(posted))


async def quick_reply(call: Call) -> Response:
    posted = await run(
        customer.quick_reply,
        call.ctx,
        call.path("id"),
        call.path("faq_slug"),
        session_id=call.session_id,
    )
    return json(posted_out(posted), 201)


async def escalate(call: Call) -> Response:
    view = await run(customer.escalate, call.ctx, call.path("id"), session_id=call.session_id)
    return json(conversation_out(view))


# The widget's endpoints: a customer's, with its session header unless said otherwise.
_customer = partial(Endpoint, audience=Audience.CUSTOMER, auth=Auth.SESSION)

ENDPOINTS = (
    _customer(
        method="GET",
        path=PREFIX + "/quick-questions",
        handler=quick_questions,
        auth=Auth.NONE,
        summary="The quick questions, in display order",
        response=QuickQuestionList,
    ),
    _customer(
        method="POST",
        path=PREFIX + "/conversations/start",
        handler=start_conversation,
        summary="Start a conversation with the bot's greeting",
        description=(
            "The body is optional. Without the session header a new session is made; "
            "with a known one the conversation joins it; an unknown one is a 403."
        ),
        auth=Auth.OPTIONAL_SESSION,
        status=201,
        response=Started,
        body=StartConversation,
        body_optional=True,
        errors=(403,),
        throttle=Throttle.CONVERSATION_STARTS,
    ),
    _customer(
        method="GET",
        path=CONVERSATION,
        handler=get_conversation,
        summary="One of the session's conversations",
        response=ConversationOut,
    ),
    _customer(
        method="GET",
        path=CONVERSATION + "/messages",
        handler=customer_messages,
        summary="Messages after a seq, ascending",
        query=MessagesQuery,
        response=MessagePageOut,
    ),
    _customer(
        method="POST",
        path=CONVERSATION + "/messages",
        handler=post_customer_message,
        summary="Write; while the bot holds the chat, its one reply comes back too",
        status=201,
        also={200: RETRY},
        response=PostedOut,
        body=PostMessage,
        errors=(409,),
        throttle=Throttle.CUSTOMER_WRITES,
    ),
    _customer(
        method="POST",
        path=CONVERSATION + "/quick-replies/{faq_slug}",
        handler=quick_reply,
        summary="Tap a quick question: it is stored as the customer's, then its answer",
        status=201,
        response=PostedOut,
        errors=(409,),
        throttle=Throttle.CUSTOMER_WRITES,
    ),
    _customer(
        method="POST",
        path=CONVERSATION + "/escalate",
        handler=escalate,
        summary="Ask for a person; again once assigned: the same assignment",
        response=ConversationOut,
        errors=(409,),
        throttle=Throttle.CUSTOMER_WRITES,
    ),
)
