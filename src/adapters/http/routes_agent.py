"""The console's endpoints: an agent's account and its conversations."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response

from adapters.http import throttle
from adapters.http.auth import Auth
from adapters.http.cursor import decode_cursor, encode_cursor
from adapters.http.endpoint import Audience, Call, Endpoint
from adapters.http.responses import (
    AgentPostedOut,
    ConversationPageOut,
    LoginOut,
    MessagePageOut,
    SetupOut,
    created_or_retried,
    json,
    message_page_out,
    no_content,
)
from adapters.http.schemas import (
    ChangePassword,
    ListingQuery,
    Login,
    MessagesQuery,
    PostMessage,
    Register,
    SetPresence,
)
from adapters.threads import run, run_hashing
from adapters.wire import (
    AgentOut,
    ConversationOut,
    agent_out,
    conversation_listing_out,
    conversation_out,
    message_out,
)
from chatcore.usecases import accounts, inbox

PREFIX = "/api/v1/agent"
CONVERSATION = PREFIX + "/conversations/{id}"
RETRY = "A retry with a known client_message_id: the stored message, nothing new"


async def setup(call: Call) -> Response:
    return json(SetupOut(await run(accounts.setup_needed, call.ctx)))


async def register(call: Call) -> Response:
    body = call.body_as(Register)
    agent = await run_hashing(
        accounts.register_agent,
        call.ctx,
        call.actor,
        email=body.email,
        password=body.password,
        display_name=body.display_name,
        role=body.role,
    )
    return json(agent_out(agent), 201)


async def login(call: Call) -> Response:
    body = call.body_as(Login)
    session = await throttle.log_in(
        call.runtime.limits,
        call.ctx,
        email=body.email,
        password=body.password,
        address=call.client_address,
    )
    answer = LoginOut(session.access_token, "bearer", session.expires_in, agent_out(session.agent))
    return json(answer)


async def logout(call: Call) -> Response:
    await run(accounts.logout, call.ctx, call.agent)
    return no_content()


async def change_password(call: Call) -> Response:
    body = call.body_as(ChangePassword)
    await throttle.change_password(
        call.runtime.limits,
        call.ctx,
        call.agent,
        current_password=body.current_password,
        new_password=body.new_password,
        address=call.client_address,
    )
    return no_content()


async def me(call: Call) -> Response:
    return json(agent_out(await run(accounts.me, call.ctx, call.agent)))


async def set_presence(call: Call) -> Response:
    body = call.body_as(SetPresence)
    agent = await run(accounts.set_presence, call.ctx, call.agent, body.presence)
    return json(agent_out(agent))


async def list_conversations(call: Call) -> Response:
    query = call.query_as(ListingQuery)
    after = decode_cursor(query.cursor) if query.cursor is not None else None
    statuses = frozenset({query.status}) if query.status else inbox.ALL_STATUSES
    page = await run(
        inbox.list_conversations,
        call.ctx,
        call.agent,
        statuses=statuses,
        limit=query.limit,
        after=after,
    )
    next_cursor = encode_cursor(page.next_cursor) if page.next_cursor else None
    items = [conversation_listing_out(view) for view in page.items]
    return json(ConversationPageOut(items, next_cursor))


async def agent_messages(call: Call) -> Response:
    query = call.query_as(MessagesQuery)
    page = await run(
        inbox.agent_messages,
        call.ctx,
        call.agent,
        call.path("id"),
        after_seq=query.after_seq,
        limit=query.limit,
    )
    return json(message_page_out(page))


async def post_agent_message(call: Call) -> Response:
    body = call.body_as(PostMessage)
    posted = await run(
        inbox.post_agent_message,
        call.ctx,
        call.agent,
        call.path("id"),
        body=body.body,
        client_message_id=body.client_message_id,
    )
    return json(AgentPostedOut(message_out(posted.message)), created_or_retried(posted))


async def close_conversation(call: Call) -> Response:
    view = await run(inbox.close_conversation, call.ctx, call.agent, call.path("id"))
    return json(conversation_out(view))


# The console's endpoints: an agent's, behind its bearer token unless said otherwise.
_agent = partial(Endpoint, audience=Audience.AGENT, auth=Auth.BEARER)

ENDPOINTS = (
    _agent(
        method="GET",
        path="/api/v1/setup",
        handler=setup,
        auth=Auth.NONE,
        summary="Whether the first agent still has to be registered (our addition)",
        response=SetupOut,
    ),
    _agent(
        method="POST",
        path=PREFIX + "/register",
        handler=register,
        summary="Register an agent: the first one needs no token and becomes admin",
        description=(
            "After the first agent, only an admin may register (no token 401, an agent 403). "
            "`role` is our addition, default `agent`. A browser on a page of another origin "
            "than ours or `CHATCORE_ALLOWED_ORIGINS` is refused (403)."
        ),
        auth=Auth.BEARER_UNLESS_SETUP,
        status=201,
        response=AgentOut,
        body=Register,
        errors=(403, 409),
        own_origin_only=True,
    ),
    _agent(
        method="POST",
        path=PREFIX + "/auth/login",
        handler=login,
        auth=Auth.NONE,
        summary="Log in: a wrong email or password is the same 401",
        description=(
            "Failed logins are limited per email and per client address (429 with "
            "`Retry-After`, the same whether the email exists or not). A browser on a page of "
            "another origin than ours or `CHATCORE_ALLOWED_ORIGINS` is refused (403)."
        ),
        response=LoginOut,
        body=Login,
        errors=(401, 429),
        own_origin_only=True,
    ),
    _agent(
        method="POST",
        path=PREFIX + "/auth/logout",
        handler=logout,
        summary="Log out: this token is dead from now on",
        status=204,
    ),
    _agent(
        method="POST",
        path=PREFIX + "/password",
        handler=change_password,
        summary="Change the password: every other token of the agent dies",
        description=(
            "A wrong `current_password` is a failed login of the agent's email, "
            "limited like one (429 with `Retry-After`)."
        ),
        status=204,
        body=ChangePassword,
        errors=(429,),
    ),
    _agent(
        method="GET",
        path=PREFIX + "/me",
        handler=me,
        summary="The calling agent",
        response=AgentOut,
    ),
    _agent(
        method="POST",
        path=PREFIX + "/presence",
        handler=set_presence,
        summary="Choose a presence; only online agents get new chats",
        response=AgentOut,
        body=SetPresence,
    ),
    _agent(
        method="GET",
        path=PREFIX + "/conversations",
        handler=list_conversations,
        summary="Conversations the agent may see, newest activity first",
        response=ConversationPageOut,
        query=ListingQuery,
    ),
    _agent(
        method="GET",
        path=CONVERSATION + "/messages",
        handler=agent_messages,
        summary="Messages after a seq, ascending",
        response=MessagePageOut,
        query=MessagesQuery,
        errors=(403,),
    ),
    _agent(
        method="POST",
        path=CONVERSATION + "/messages",
        handler=post_agent_message,
        summary="Write in a conversation the agent holds",
        status=201,
        also={200: RETRY},
        response=AgentPostedOut,
        body=PostMessage,
        errors=(403, 409),
    ),
    _agent(
        method="POST",
        path=CONVERSATION + "/close",
        handler=close_conversation,
        summary="Close a conversation the agent holds (an admin: any)",
        response=ConversationOut,
        errors=(403, 409),
    ),
)
