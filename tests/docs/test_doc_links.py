"""The project's docs stand on their own: every link resolves inside the repository.

A page that sends a reader to a file the repository does not have (a contract kept
beside it, say) is a dead end for anyone with only a clone.
"""

from __future__ import annotations

import re
from pathlib import Path

import pytest

ROOT = Path(__file__).resolve().parents[2]
PAGES = sorted([ROOT / "README.md", *(ROOT / "docs").rglob("*.md")])
# [text](target) and ![alt](target), minus web addresses and in-page anchors.
LINK = re.compile(r"!?\[[^\]]*\]\(([^)\s]+)\)")


def _local_targets(page: Path) -> list[str]:
    targets = (match.group(1) for match in LINK.finditer(page.read_text(encoding="utf-8")))
    return [t for t in targets if not re.match(r"[a-z]+:", t) and not t.startswith("#")]


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_every_local_link_resolves_inside_the_repository(page: Path) -> None:
    for target in _local_targets(page):
        resolved = (page.parent / target.split("#")[0]).resolve()
        assert resolved.is_relative_to(ROOT), f"{target} leaves the repository"
        assert resolved.exists(), f"{target} does not exist"


@pytest.mark.parametrize("page", PAGES, ids=lambda page: str(page.relative_to(ROOT)))
def test_no_page_names_a_file_kept_outside_the_repository(page: Path) -> None:
    assert "CONTRACT.md" not in page.read_text(encoding="utf-8")
