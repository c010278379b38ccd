"""Browser tests (a package only so its conftest has a name of its own for mypy)."""
