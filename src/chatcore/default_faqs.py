"""The quick questions a fresh store starts with, so the widget has something to show.

Written for a small online shop; an admin edits or replaces them from the console.
Every storage adapter seeds a new store with these same entries, so they live
here, beside ``FaqEntry``, and not in any one adapter.
"""

from __future__ import annotations

from chatcore.bot import FaqEntry

DEFAULT_FAQS: list[FaqEntry] = [
    FaqEntry(
        slug="track-order",
        question="Where is my order?",
        answer=(
            "You can follow your parcel from My account → Orders: open the order and tap "
            '"Track shipment". We also email you the tracking link as soon as your order '
            "leaves our warehouse, usually within one business day. If the tracking hasn't "
            "moved for three business days, send us your order number and we'll chase the "
            "carrier for you."
        ),
        position=0,
    ),
    FaqEntry(
        slug="shipping-times-costs",
        question="How long does shipping take and what does it cost?",
        answer=(
            "Standard shipping takes 3–5 business days and is free on orders over $50 "
            "(otherwise $4.95). Express shipping arrives in 1–2 business days for $12.95. "
            "Orders placed before 2 pm ship the same business day."
        ),
        position=1,
    ),
    FaqEntry(
        slug="returns-refunds",
        question="How do I return an item and get a refund?",
        answer=(
            "You can return most items within 30 days of delivery. Go to My account → "
            'Orders, choose "Return items", print the prepaid label and drop the parcel '
            "at any post office. As soon as it reaches us we refund your original payment "
            "method; the money shows up within 5 business days."
        ),
        position=2,
    ),
    FaqEntry(
        slug="payment-methods",
        question="Which payment methods do you accept?",
        answer=(
            "We accept Visa, Mastercard, American Express, PayPal, Apple Pay and Google "
            "Pay. Your card is only charged when your order ships."
        ),
        position=3,
    ),
    FaqEntry(
        slug="change-cancel-order",
        question="Can I change or cancel my order?",
        answer=(
            "Yes, as long as it hasn't shipped yet: go to My account → Orders, open the "
            'order and choose "Change" or "Cancel". Once it has shipped it can no longer '
            "be changed, but you can return it for a full refund when it arrives."
        ),
        position=4,
    ),
    FaqEntry(
        slug="reset-password",
        question="How do I reset my password?",
        answer=(
            'On the sign-in page, tap "Forgot password?" and enter your email address. '
            "We'll send you a link to choose a new password; it works for one hour. "
            "Nothing in your inbox after a few minutes? Check your spam folder, or ask us "
            "right here."
        ),
        position=5,
    ),
]
