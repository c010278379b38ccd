"""The bot: a greeting, quick replies, and free text matched to the best FAQ entry."""

from __future__ import annotations

import re
from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from functools import lru_cache

BOT_NAME = "Assistant"
SYSTEM_NAME = "chatcore"
GREETING = (
    "Hi! I'm the virtual assistant. Pick a question below or type your own. "
    "You can talk to a person at any time."
)
FALLBACK = (
    "Sorry, I'm not sure I understood. Try one of the quick questions, "
    'or tap "Talk to an agent" and a person will help you.'
)
# Share of the customer's words an entry must account for before the bot answers with it.
MATCH_THRESHOLD = 0.5
ANSWER_WORD_WEIGHT = 0.5

SLUG_PATTERN = r"^[a-z0-9]+(-[a-z0-9]+)*$"
SLUG_MAX_CHARS = 64
QUESTION_MAX_CHARS = 200
ANSWER_MAX_CHARS = 4000


@dataclass(slots=True)
class FaqEntry:
    slug: str
    question: str
    answer: str
    position: int = 0


def display_order(entries: Iterable[FaqEntry]) -> list[FaqEntry]:
    return sorted(entries, key=lambda e: (e.position, e.slug))


_STOPWORDS = frozenset(
    """a an the i me my we our you your it its is are was be been am do does did
    can could would should will shall may might must to of in on at by for with
    from about as into how what when where why who which there here this that
    these those and or but if so not no please hi hello hey thanks thank any
    some get got have has had just want need like know tell help take make use""".split()
)
_WORD = re.compile(r"[a-z0-9]+")


def _stem(word: str) -> str:
    # A deliberately tiny stemmer: enough to meet "shipping", "shipped" and "ships" at
    # "ship", "invoices" at "invoice" and "addresses" at "address".
    for suffix, shortest in (("ing", 6), ("ed", 5), ("es", 5), ("s", 4)):
        if word.endswith(suffix) and len(word) >= shortest and not word.endswith("ss"):
            word = word[: -len(suffix)]
            if len(word) > 3 and word[-1] == word[-2] and word[-1] != "s":
                word = word[:-1]
            break
    # A silent final e comes and goes with the suffix ("change", "changed"): drop it always.
    return word[:-1] if len(word) > 4 and word.endswith("e") else word


@lru_cache(maxsize=4096)
def keywords(text: str) -> frozenset[str]:
    # Cached: the FAQ's own questions and answers are read again for every message.
    words = _WORD.findall(text.lower())
    return frozenset(_stem(w) for w in words if w not in _STOPWORDS)


def match_score(text_words: frozenset[str], entry: FaqEntry) -> float:
    """How much of what the customer wrote this entry accounts for, 0 to 1."""
    if not text_words:
        return 0.0
    question = keywords(entry.question) | keywords(entry.slug.replace("-", " "))
    answer_only = keywords(entry.answer) - question
    hits = len(text_words & question) + ANSWER_WORD_WEIGHT * len(text_words & answer_only)
    return hits / len(text_words)


def best_answer(
    text: str, entries: Sequence[FaqEntry], *, threshold: float = MATCH_THRESHOLD
) -> FaqEntry | None:
    """The entry that best answers ``text``, or None below the threshold (the bot falls back)."""
    words = keywords(text)
    best: FaqEntry | None = None
    best_score = 0.0
    for entry in display_order(entries):
        score = match_score(words, entry)
        if score > best_score:
            best, best_score = entry, score
    return best if best_score >= threshold else None
