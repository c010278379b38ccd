"""Adapters: the real implementations of chatcore's ports (storage, web, security, events).

They depend on chatcore, never on entrypoints; only the composition root picks among them.
"""
