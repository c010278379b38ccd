"""What the domain refuses, and why. Errors carry meaning; adapters pick the status code."""

from __future__ import annotations


class DomainError(Exception):
    """Base of every refusal the domain can make."""

    default_message = "The request was refused."

    def __init__(self, message: str | None = None) -> None:
        super().__init__(message or self.default_message)

    @property
    def message(self) -> str:
        return str(self.args[0])


class InvalidInput(DomainError):
    """A value breaks a rule of the domain (an empty message body, a short password)."""

    default_message = "The request is not valid."

    def __init__(self, fields: dict[str, str], message: str | None = None) -> None:
        super().__init__(message)
        self.fields = fields


class Unauthorized(DomainError):
    """No valid agent credentials: missing, forged, expired or revoked token, or a bad login."""

    default_message = "Valid agent credentials are required."


class Forbidden(DomainError):
    default_message = "You may not do that."


class NotYourConversation(Forbidden):
    default_message = "This conversation belongs to someone else."


class AdminOnly(Forbidden):
    default_message = "Only an admin may do that."


class NotFound(DomainError):
    default_message = "No such thing exists."


class ConversationNotFound(NotFound):
    default_message = "The conversation does not exist."


class FaqNotFound(NotFound):
    default_message = "The quick question does not exist."


class AgentNotFound(NotFound):
    default_message = "The agent does not exist."


class InvalidTransition(DomainError):
    """The conversation (or agent) is not in a state that allows this."""

    default_message = "That is not possible in the current state."


class ConversationClosed(InvalidTransition):
    default_message = "The conversation is closed."


class NotWithBot(InvalidTransition):
    default_message = "The conversation is no longer with the bot."


class NotWithAgent(InvalidTransition):
    default_message = "The conversation is not with an agent."


class CannotDeactivate(InvalidTransition):
    default_message = "That agent cannot be deactivated."


class NoAgentAvailable(DomainError):
    default_message = "No agent is free right now. Please try again in a moment."


class EmailTaken(DomainError):
    default_message = "An agent with this email already exists."


class SlugTaken(DomainError):
    default_message = "A quick question with this slug already exists."
