"""Admin endpoints: the quick questions and the agents."""

from __future__ import annotations

from functools import partial

from starlette.responses import Response

from adapters.http.auth import Auth
from adapters.http.endpoint import Audience, Call, Endpoint
from adapters.http.responses import AgentList, FaqList, json, no_content
from adapters.http.schemas import CreateFaq, UpdateFaq
from adapters.threads import run
from adapters.wire import AgentOut, FaqOut, agent_out, faq_out
from chatcore.usecases import admin

PREFIX = "/api/v1/admin"
FAQ = PREFIX + "/faqs/{slug}"


async def list_faqs(call: Call) -> Response:
    entries = await run(admin.list_faqs, call.ctx, call.agent)
    return json(FaqList([faq_out(e) for e in entries]))


async def create_faq(call: Call) -> Response:
    body = call.body_as(CreateFaq)
    entry = await run(
        admin.create_faq,
        call.ctx,
        call.agent,
        slug=body.slug,
        question=body.question,
        answer=body.answer,
        position=body.position,
    )
    return json(faq_out(entry), 201)


async def update_faq(call: Call) -> Response:
    body = call.body_as(UpdateFaq)
    entry = await run(
        admin.update_faq,
        call.ctx,
        call.agent,
        call.path("slug"),
        question=body.question,
        answer=body.answer,
        position=body.position,
    )
    return json(faq_out(entry))


async def delete_faq(call: Call) -> Response:
    await run(admin.delete_faq, call.ctx, call.agent, call.path("slug"))
    return no_content()


async def list_agents(call: Call) -> Response:
    agents = await run(admin.list_agents, call.ctx, call.agent)
    return json(AgentList([agent_out(a) for a in agents]))


async def deactivate_agent(call: Call) -> Response:
    agent = await run(admin.deactivate_agent, call.ctx, call.agent, call.path("id"))
    return json(agent_out(agent))


# Every admin endpoint is an admin's, behind a bearer token.
_admin = partial(Endpoint, audience=Audience.ADMIN, auth=Auth.BEARER)

ENDPOINTS = (
    _admin(
        method="GET",
        path=PREFIX + "/faqs",
        handler=list_faqs,
        summary="Every quick question with its answer, in display order",
        response=FaqList,
    ),
    _admin(
        method="POST",
        path=PREFIX + "/faqs",
        handler=create_faq,
        summary="Add a quick question; without a position it goes last",
        status=201,
        response=FaqOut,
        body=CreateFaq,
        errors=(409,),
    ),
    _admin(
        method="PUT",
        path=FAQ,
        handler=update_faq,
        summary="Change a quick question's question, answer or position",
        response=FaqOut,
        body=UpdateFaq,
    ),
    _admin(
        method="DELETE",
        path=FAQ,
        handler=delete_faq,
        summary="Delete a quick question; old messages keep their faq_slug",
        status=204,
    ),
    _admin(
        method="GET",
        path=PREFIX + "/agents",
        handler=list_agents,
        summary="Every agent, active or not",
        response=AgentList,
    ),
    _admin(
        method="POST",
        path=PREFIX + "/agents/{id}/deactivate",
        handler=deactivate_agent,
        summary="Lock an agent out and hand its open chats over",
        description=(
            "Its tokens die; each of its AGENT conversations goes to another free agent "
            "or back to the bot. Yourself or the last active admin: 409."
        ),
        response=AgentOut,
        errors=(409,),
    ),
)
