"""Fuzz tests reuse the adapter tests' helpers (accounts, the WebSocket client).

Both folders go on sys.path: this one for ``fuzz_world``, tests/adapters for
``helpers`` and ``ws_client``.
"""

import sys
from pathlib import Path

_HERE = Path(__file__).resolve().parent
for _folder in (_HERE, _HERE.parent / "adapters"):
    if str(_folder) not in sys.path:
        sys.path.insert(0, str(_folder))
