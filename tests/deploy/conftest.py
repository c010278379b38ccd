"""Deployment tests: chatcore behind the nginx configuration shipped in deploy/."""

from __future__ import annotations

import sys
from pathlib import Path

# The adapter tests' HTTP and WebSocket clients, reused as they are.
sys.path.insert(0, str(Path(__file__).parents[1] / "adapters"))
