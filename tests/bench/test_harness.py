"""The benchmark harness runs once at a tiny size, so it cannot rot.

Not a benchmark: no timing is asserted. It checks that ``bench/run.py --tiny``
finishes, that every measurement present wrote its section with numbers, that
delivery lost, duplicated and out-of-order counts are zero, that the idle
measurement's memory samples and both pictures are there, that each saturation
ladder says what stopped it, that the scale-out section has PostgreSQL and two
instances side by side with SQLite, and that ``--publish`` puts the table and
pictures into docs/ (a temporary one here).
"""

from __future__ import annotations

import importlib.util
import json
import subprocess
import sys
from pathlib import Path
from types import ModuleType
from typing import Any

import pytest

ROOT = Path(__file__).resolve().parents[2]
RUN = ROOT / "bench" / "run.py"
# Module under bench/ -> the section it writes into latest.json.
SECTIONS = {
    "measure_delivery": "delivery",
    "measure_scaleout": "scaleout",
    "measure_idle": "idle",
    "measure_fanout": "fanout",
    "measure_history": "history",
    "measure_escalation": "escalation",
}
PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
PICTURES = ("delivery-cdf.png", "idle-memory.png")
LIMITS = {"server", "generator", "server and generator", "machine", "cores", "ladder"}
SCALEOUT_MODES = ("postgresql", "two_instances")


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


def assert_png(path: Path) -> None:
    assert path.is_file(), f"{path.name} was not drawn"
    data = path.read_bytes()
    assert data.startswith(PNG_SIGNATURE), f"{path.name} is not a PNG"
    assert len(data) > 1000, f"{path.name} is too small to hold a plot"


@pytest.fixture(scope="module")
def tiny(tmp_path_factory: pytest.TempPathFactory) -> tuple[Path, dict[str, Any]]:
    """One ``--tiny`` run for every test here: its output folder and latest.json."""
    out = tmp_path_factory.mktemp("bench")
    done = subprocess.run(
        [sys.executable, str(RUN), "--tiny", "--out", str(out)],
        capture_output=True,
        text=True,
        timeout=240,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    return out, json.loads((out / "latest.json").read_text())


def load_run(monkeypatch: pytest.MonkeyPatch) -> ModuleType:
    """bench/run.py as a module, with bench/ on sys.path only for this test."""
    monkeypatch.syspath_prepend(str(RUN.parent))
    spec = importlib.util.spec_from_file_location("bench_run", RUN)
    assert spec is not None
    assert spec.loader is not None
    module = importlib.util.module_from_spec(spec)
    # Registered while it runs: its dataclasses look their own module up by name.
    monkeypatch.setitem(sys.modules, spec.name, module)
    spec.loader.exec_module(module)
    return module


def test_tiny_run_writes_every_section_with_no_lost_messages(
    tiny: tuple[Path, dict[str, Any]],
) -> None:
    out, report = tiny
    assert (out / "latest.md").read_text().startswith("# chatcore benchmarks")
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


def test_idle_memory_is_sampled_as_sockets_open_and_drawn(
    tiny: tuple[Path, dict[str, Any]],
) -> None:
    out, report = tiny
    idle = report["results"]["idle"]
    samples = idle["samples"]
    counts = [s["connections"] for s in samples]
    # From the baseline (none open) up to every socket opened, never going back.
    assert counts[0] == 0
    assert counts[-1] == idle["opened"]
    assert counts == sorted(counts), counts
    assert len(set(counts)) > 2, "too few distinct readings for a line"
    assert all(isinstance(s["rss_kib"], int) and s["rss_kib"] > 0 for s in samples)
    assert samples[0]["rss_kib"] == idle["rss_before_kib"]
    assert isinstance(idle["kib_per_connection_slope"], int | float)

    for name in PICTURES:
        assert_png(out / name)
        assert f"]({name})" in (out / "latest.md").read_text(), f"latest.md does not link {name}"


def test_each_saturation_ladder_says_what_stopped_it(tiny: tuple[Path, dict[str, Any]]) -> None:
    out, report = tiny
    text = (out / "latest.md").read_text()
    for target in ("chatcore", "relay"):
        saturation = report["results"]["delivery"][target]["saturation"]
        assert saturation["limited_by"] in LIMITS, saturation["limited_by"]
        assert saturation["limit_reason"]
        assert f"Saturation, {target}:" in text
        held = [s["rate"] for s in saturation["steps"] if s["held"]]
        assert saturation["highest_rate"] == (max(held) if held else None)
        for step in saturation["steps"]:
            assert isinstance(step["send_lag_p99_ms"], int | float), step
            for key in ("generator_cpu_sending_pct", "server_waited_pct"):
                assert key in step, (key, step)


def test_scaleout_puts_postgresql_and_two_instances_beside_sqlite(
    tiny: tuple[Path, dict[str, Any]],
) -> None:
    """Shape only: both setups measured at every delivery rate, faults counted, each
    ladder with a verdict, the server logs read, the section in latest.md."""
    out, report = tiny
    scaleout = report["results"]["scaleout"]
    delivery_rates = [p["rate"] for p in report["results"]["delivery"]["chatcore"]["rates"]]
    for mode in SCALEOUT_MODES:
        part = scaleout[mode]
        assert [p["rate"] for p in part["rates"]] == delivery_rates, mode
        for phase in part["rates"] + part["saturation"]["steps"]:
            for key in ("lost", "duplicated", "out_of_order", "post_errors"):
                assert isinstance(phase[key], int), (mode, phase["rate"], key)
            assert isinstance(phase["postgresql_cpu_pct"], int | float), (mode, phase["rate"])
            assert isinstance(phase["machine_cpu_sending_pct"], int | float), (mode, phase)
        for phase in part["rates"]:
            assert phase["delivered"] > 0, (mode, phase["rate"])
            for key in ("p50_ms", "p99_ms", "max_ms"):
                assert isinstance(phase[key], int | float), (mode, phase["rate"], key)
        saturation = part["saturation"]
        assert saturation["limited_by"] in LIMITS, (mode, saturation["limited_by"])
        assert saturation["limit_reason"]
        assert scaleout["saturation"][mode]["limited_by"] == saturation["limited_by"]
        held = [s["rate"] for s in saturation["steps"] if s["held"]]
        assert saturation["highest_rate"] == (max(held) if held else None)
        for found in part["server_logs"].values():
            assert isinstance(found["unusual_lines"], int)
            assert isinstance(found["http_5xx"], int)

    two = scaleout["two_instances"]
    assert two["servers"]["customers"] != two["servers"]["agents"], "one server, not two"
    assert set(two["server_logs"]) == {"customers (A)", "agents (B)"}
    for phase in two["rates"]:  # the agents' instance is timed as well
        assert isinstance(phase["agent_server_cpu_pct"], int | float), phase["rate"]
    assert "servers" not in scaleout["postgresql"]
    assert [row["rate"] for row in scaleout["side_by_side"]] == delivery_rates

    text = (out / "latest.md").read_text()
    assert "Scale-out: PostgreSQL and two instances" in text
    assert "| rate/s | SQLite, one process | PostgreSQL, one process | two instances" in text
    for label in ("PostgreSQL, one process", "two instances (PostgreSQL + Redis)"):
        assert f"Saturation, {label}:" in text, label


def test_publish_copies_the_table_and_pictures_into_docs(
    tiny: tuple[Path, dict[str, Any]], tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    out, report = tiny
    run = load_run(monkeypatch)
    docs = tmp_path / "docs"
    docs.mkdir()
    (docs / "benchmarks.md").write_text("# Benchmarks\n\nHow to read them.\n")
    (docs / "benchmarks").mkdir()
    (docs / "benchmarks" / "gone.png").write_bytes(PNG_SIGNATURE)  # from an older run

    run.publish(report, out, docs)
    run.publish(report, out, docs)  # twice: the section is replaced, not added again

    published = docs / "benchmarks"
    for name in PICTURES:
        assert_png(published / name)
    assert not (published / "gone.png").exists(), "a picture this run did not draw was kept"
    assert (published / "latest.md").read_text() == (out / "latest.md").read_text()
    doc = (docs / "benchmarks.md").read_text()
    assert doc.startswith("# Benchmarks\n\nHow to read them.\n")
    assert doc.count(run.BEGIN_MARK) == doc.count(run.END_MARK) == 1
    assert "| metric | value | target | met? |" in doc
    assert "Scale-out: PostgreSQL and two instances" in doc
    for name in PICTURES:  # the links now reach into the folder
        assert f"](benchmarks/{name})" in doc
        assert f"]({name})" not in doc


def test_publish_refuses_a_tiny_run() -> None:
    done = subprocess.run(
        [sys.executable, str(RUN), "--tiny", "--publish"],
        capture_output=True,
        text=True,
        timeout=60,
        check=False,
        cwd=ROOT,
    )
    assert done.returncode == 2
    assert "--publish" in done.stderr
