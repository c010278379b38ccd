"""The web pages: the embeddable widget, the demo shop, the agent console. Static files only."""

from adapters.web.pages import web_routes

__all__ = ["web_routes"]
