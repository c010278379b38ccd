"""``run.py --publish``: the committed copy of a run's results, under docs/.

bench/results/ is not committed; this copies latest.md and the pictures to
docs/benchmarks/ and splices the summary between two markers in
docs/benchmarks.md, so the committed figures come from a run.
"""

from __future__ import annotations

import re
import shutil
from pathlib import Path
from typing import Any

from report import summary_markdown

# --publish: where the committed copy goes, under docs/ (bench/results/ is not committed).
DOCS = Path(__file__).resolve().parent.parent / "docs"
PUBLISHED_FOLDER = "benchmarks"
BEGIN_MARK = "<!-- latest results: written by `bench/run.py --publish`; edits here are lost -->"
END_MARK = "<!-- end of latest results -->"
IMAGE_LINK = re.compile(r"\]\(([^/):]+\.png)\)")


def relink(text: str, prefix: str) -> str:
    """Point every relative image link of ``text`` into ``prefix``/ (a folder)."""
    return IMAGE_LINK.sub(lambda m: f"]({prefix}/{m.group(1)})", text)


def splice(document: str, section: str) -> str:
    """``document`` with what lies between the two markers replaced by ``section``,
    or with the markers and ``section`` appended when it has none yet."""
    block = f"{BEGIN_MARK}\n\n{section.strip()}\n\n{END_MARK}"
    if BEGIN_MARK in document and END_MARK in document:
        head, rest = document.split(BEGIN_MARK, 1)
        return head + block + rest.split(END_MARK, 1)[1]
    return document.rstrip() + "\n\n## Latest results\n\n" + block + "\n"


def publish(report: dict[str, Any], out: Path, docs: Path) -> list[Path]:
    """Copy this run's latest.md and pictures to DOCS/benchmarks/ and its summary into
    DOCS/benchmarks.md, so the committed figures come from a run, never from a hand."""
    folder = docs / PUBLISHED_FOLDER
    folder.mkdir(parents=True, exist_ok=True)
    drawn = {Path(p).name for p in report["plots"]}
    for stale in folder.glob("*.png"):  # an older run's, which would pass for this one's
        if stale.name not in drawn:
            stale.unlink()
    written = []
    for name in sorted(drawn):
        shutil.copyfile(out / name, folder / name)
        written.append(folder / name)
    # latest.md keeps its links: the pictures sit beside it there as they do here.
    shutil.copyfile(out / "latest.md", folder / "latest.md")
    written.append(folder / "latest.md")
    doc = docs / "benchmarks.md"
    summary = relink(summary_markdown(report), PUBLISHED_FOLDER)
    summary += (
        f"\nEvery measurement's own table: [{PUBLISHED_FOLDER}/latest.md]"
        f"({PUBLISHED_FOLDER}/latest.md).\n"
    )
    doc.write_text(splice(doc.read_text() if doc.exists() else "", summary))
    written.append(doc)
    return written
