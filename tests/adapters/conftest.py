"""Adapter tests share the real-server fixtures of tests/conftest.py and these helpers."""

from __future__ import annotations

import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).parent))  # so tests can `import helpers`
