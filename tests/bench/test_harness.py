"""The benchmark harness runs once at a tiny size, so it cannot rot.

Not a benchmark: no timing is asserted. It checks that ``bench/run.py --tiny``
finishes, that every measurement present wrote its section with numbers, and
that delivery lost, duplicated and out-of-order counts are zero.
"""

from __future__ import annotations

import json
import subprocess
import sys
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
# Module under bench/ -> the section it writes into latest.json.
SECTIONS = {
    "measure_delivery": "delivery",
    "measure_idle": "idle",
    "measure_fanout": "fanout",
    "measure_history": "history",
    "measure_escalation": "escalation",
}


def numbers(value: Any) -> list[float]:
    """Every number anywhere inside ``value``."""
    if isinstance(value, bool):
        return []
    if isinstance(value, int | float):
        return [float(value)]
    if isinstance(value, dict):
        return [n for v in value.values() for n in numbers(v)]
    if isinstance(value, list):
        return [n for v in value for n in numbers(v)]
    return []


def test_tiny_run_writes_every_section_with_no_lost_messages(tmp_path: Path) -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--tiny", "--out", str(tmp_path)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    report = json.loads((tmp_path / "latest.json").read_text())
    assert (tmp_path / "latest.md").read_text().startswith("# chatcore benchmarks")
    assert report["errors"] == {}
    assert report["targets"], "the targets table is empty"

    present = [m for m in SECTIONS if (RUN.parent / f"{m}.py").exists()]
    assert "measure_delivery" in present
    for module in present:
        section = report["results"].get(SECTIONS[module])
        assert isinstance(section, dict), f"no {SECTIONS[module]} section"
        assert numbers(section), f"the {SECTIONS[module]} section has no numbers"

    delivery = report["results"]["delivery"]
    for target in ("chatcore", "relay"):
        part = delivery[target]
        assert part["rates"], f"{target}: no delivery rates measured"
        for phase in part["rates"]:
            assert phase["delivered"] > 0
            for key in ("p50_ms", "p99_ms", "max_ms", "achieved_rate"):
                assert isinstance(phase[key], int | float), (target, phase["rate"], key)
            assert phase["lost"] == phase["duplicated"] == phase["out_of_order"] == 0, phase
        for step in part["saturation"]["steps"]:  # overload may lose; never reorder
            assert step["duplicated"] == step["out_of_order"] == 0, step
    assert delivery["ratios"], "no chatcore/relay ratio"
