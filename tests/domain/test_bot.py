"""The bot's matcher: a question finds its own entry, noise finds nothing, thresholds only cut."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from chatcore.bot import MATCH_THRESHOLD, FaqEntry, best_answer, keywords

FAQS = [
    FaqEntry(
        "reset-password",
        "How do I reset my password?",
        'Click "Forgot password" on the sign-in page and follow the link we email you.',
        0,
    ),
    FaqEntry(
        "shipping-time",
        "How long does shipping take?",
        "Orders leave our warehouse within two business days; delivery takes 3 to 5 more.",
        1,
    ),
    FaqEntry(
        "track-order",
        "Where is my order?",
        "Open Orders in your account to follow the parcel with its tracking number.",
        2,
    ),
    FaqEntry(
        "refund-policy",
        "What is your refund policy?",
        "Return any item within 30 days for a full refund to your original payment method.",
        3,
    ),
    FaqEntry(
        "cancel-subscription",
        "How do I cancel my subscription?",
        "Go to Settings, then Billing, and choose Cancel plan. Access lasts until the period ends.",
        4,
    ),
    FaqEntry(
        "opening-hours",
        "When is support open?",
        "Our team answers Monday to Friday, 9:00 to 18:00 CET.",
        5,
    ),
]

VOCABULARY = sorted(
    {word for entry in FAQS for word in f"{entry.question} {entry.answer}".split()}
    | {"qwertyuiop", "zxcv", "banana", "ships", "shipped", "PASSWORD", "hello", "the"}
)
SEPARATORS = st.text(alphabet=" \t\n,.;:!?()'\"-/", min_size=1, max_size=3)
words = st.lists(st.sampled_from(VOCABULARY), max_size=8)
texts = words.map(" ".join)
thresholds = st.floats(min_value=0.0, max_value=1.5, allow_nan=False)


@pytest.mark.parametrize("entry", FAQS, ids=lambda e: e.slug)
def test_a_question_is_answered_by_its_own_entry(entry: FaqEntry) -> None:
    assert best_answer(entry.question, FAQS) == entry
    assert best_answer(entry.question.upper() + "!!", FAQS) == entry


@pytest.mark.parametrize("text", ["qwertyuiop zxcv", "", "   ", "\n\t", "?!...", "how do I?"])
def test_unrelated_empty_or_empty_of_meaning_text_gets_no_answer(text: str) -> None:
    assert best_answer(text, FAQS) is None


@given(text=st.text(alphabet=" \t\n\r\x0b\x0c"))
def test_whitespace_never_matches(text: str) -> None:
    assert best_answer(text, FAQS) is None


def test_no_entries_means_no_answer() -> None:
    assert best_answer("How do I reset my password?", []) is None


@settings(max_examples=200)
@given(text=texts, low=thresholds, high=thresholds)
def test_a_higher_threshold_never_turns_silence_into_an_answer(
    text: str, low: float, high: float
) -> None:
    low, high = min(low, high), max(low, high)
    strict = best_answer(text, FAQS, threshold=high)
    lenient = best_answer(text, FAQS, threshold=low)
    if lenient is None:
        assert strict is None
    if strict is not None:
        assert lenient == strict  # the threshold decides whether, never which


@given(text=texts, data=st.data())
def test_the_answer_does_not_depend_on_the_entries_order(text: str, data: st.DataObject) -> None:
    shuffled = data.draw(st.permutations(FAQS))
    assert best_answer(text, shuffled) == best_answer(text, FAQS)


@given(chosen=words, data=st.data())
def test_keywords_ignore_case_and_punctuation(chosen: list[str], data: st.DataObject) -> None:
    plain = " ".join(chosen)
    noisy = "".join(word + data.draw(SEPARATORS) for word in chosen)
    assert keywords(noisy) == keywords(plain)
    assert keywords(plain.upper()) == keywords(plain) == keywords(plain.title())
    assert best_answer(noisy.upper(), FAQS) == best_answer(plain, FAQS)


def test_stemming_meets_shipping_shipped_and_ships() -> None:
    assert keywords("shipping") == keywords("shipped") == keywords("ships") == {"ship"}
    shipping = FAQS[1]
    for text in ("Has my order shipped?", "when does it ship", "Ships to Canada?"):
        assert best_answer(text, FAQS) == shipping, text


def test_the_default_threshold_is_what_best_answer_uses() -> None:
    # One word in two is about passwords: exactly the default share, so it answers.
    text = "password banana"
    assert best_answer(text, FAQS) == best_answer(text, FAQS, threshold=MATCH_THRESHOLD)
    assert best_answer(text, FAQS) == FAQS[0]
    assert best_answer(text, FAQS, threshold=MATCH_THRESHOLD + 0.01) is None


@pytest.mark.parametrize(
    ("word", "inflected"),
    [
        ("invoice", "invoices"),
        ("change", "changed"),
        ("address", "addresses"),
        ("charge", "charging"),
        ("package", "packages"),
        ("cancel", "cancelled"),
    ],
)
def test_stemming_meets_inflections_of_words_ending_in_e_or_ss(word: str, inflected: str) -> None:
    assert keywords(word) == keywords(inflected)
