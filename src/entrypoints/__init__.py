"""Entrypoints: the composition root (``bootstrap``), its ``settings``, and the ``chatcore`` CLI.

The only place that knows every adapter; ``chatcore`` and ``adapters`` never import it.
"""
