"""Use cases: each opens a unit of work, applies the domain, commits, then publishes.

Grouped by who acts: ``customer``, ``accounts`` (an agent's own account),
``inbox`` (an agent's conversations), ``admin``, and ``presence`` (what the
realtime adapter reports about connections).
"""

from chatcore.usecases import accounts, admin, customer, inbox, presence
from chatcore.usecases._base import Context, Policy, transaction
from chatcore.usecases.accounts import Actor, Session
from chatcore.usecases.customer import MessagePage, Posted, StartedConversation
from chatcore.usecases.inbox import ConversationPage

__all__ = [
    "Actor",
    "Context",
    "ConversationPage",
    "MessagePage",
    "Policy",
    "Posted",
    "Session",
    "StartedConversation",
    "accounts",
    "admin",
    "customer",
    "inbox",
    "presence",
    "transaction",
]
