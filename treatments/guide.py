"""
“Which facial is right for me?”: turns a visitor's answers into a suggestion.

Each answer points to the treatment usually recommended for it (or to
neither). The treatment with the most answers pointing to it is suggested; on a
tie the visitor's goal decides, because it is what separates a short-term
glow from long-term change. The suggestion is never a diagnosis: the page
says that a consultation decides.
"""

from collections import Counter
from dataclasses import dataclass, field

from .models import Treatment


@dataclass
class Recommendation:
    treatment: Treatment | None
    reasons: list[str] = field(default_factory=list)


def recommend(*, concerns, sensitivity, goal):
    answers = [*concerns, sensitivity, goal]
    votes = Counter(
        answer.recommended_treatment
        for answer in answers
        if answer.recommended_treatment is not None and answer.recommended_treatment.is_published
    )
    if not votes:
        return Recommendation(treatment=None)

    best = max(votes.values())
    tied = [treatment for treatment, count in votes.items() if count == best]
    if goal.recommended_treatment in tied:
        chosen = goal.recommended_treatment
    else:
        chosen = min(tied, key=lambda treatment: (treatment.display_order, treatment.name))
    reasons = [answer.reason for answer in answers if answer.recommended_treatment == chosen]
    return Recommendation(treatment=chosen, reasons=reasons)
