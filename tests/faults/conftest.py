"""The fault tests reuse the adapter tests' helpers (tests/adapters) and their own
(fault_kit.py); this puts both folders on the import path."""

from __future__ import annotations

import sys
from pathlib import Path

HERE = Path(__file__).parent
sys.path.insert(0, str(HERE.parent / "adapters"))  # helpers, ws_client, test_two_instances…
sys.path.insert(0, str(HERE))  # fault_kit
