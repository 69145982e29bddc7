"""
booking's models, one module per domain: the schedule (rules,
practitioners, hours, time off, closures), the consultation types, the bookings
and their history, the outbox, the health screening, the waitlist and
a client's "My visits" (sign-in links, marketing choices, erasure requests);
and, under them all, the PostgreSQL-only exclusion constraint they share.
Everything is re-exported here: the migrations and callers import
`booking.models`.
"""

from .bookings import (
    REFERENCE_ALPHABET,
    REFERENCE_LENGTH,
    BookingQuerySet,
    BookingStatusChange,
    ConsultationBooking,
    TsTzRange,
    new_reference,
)
from .constraints import PostgresOnlyExclusionConstraint
from .consultation_types import MAX_BEFORE_CARE_DAYS, ConsultationType, ConsultationTypeQuerySet
from .my_visits import ErasureRequest, MarketingChoice, SignInLink, hash_sign_in_token
from .outbox import OutboundEmail, OutboundEmailQuerySet
from .schedule import (
    AvailabilityVersion,
    BookingRules,
    Closure,
    Practitioner,
    PractitionerQuerySet,
    TimeOff,
    Weekday,
    WindowTimes,
    WorkingHours,
    WorkingHoursExclusionConstraint,
)
from .screening import (
    AnswerRule,
    HealthFormRead,
    Question,
    Questionnaire,
    QuestionnaireUse,
    QuestionnaireVersion,
    ScreeningAnswers,
    ScreeningOutcome,
)
from .waitlist import (
    FreedTime,
    PartOfDay,
    WaitlistEntry,
    WaitlistEntryQuerySet,
    WaitlistOffer,
    WaitlistOfferQuerySet,
)

__all__ = [
    "MAX_BEFORE_CARE_DAYS",
    "REFERENCE_ALPHABET",
    "REFERENCE_LENGTH",
    "AnswerRule",
    "AvailabilityVersion",
    "BookingQuerySet",
    "BookingRules",
    "BookingStatusChange",
    "Closure",
    "ConsultationBooking",
    "ConsultationType",
    "ConsultationTypeQuerySet",
    "ErasureRequest",
    "FreedTime",
    "HealthFormRead",
    "MarketingChoice",
    "OutboundEmail",
    "OutboundEmailQuerySet",
    "PartOfDay",
    "PostgresOnlyExclusionConstraint",
    "Practitioner",
    "PractitionerQuerySet",
    "Question",
    "Questionnaire",
    "QuestionnaireUse",
    "QuestionnaireVersion",
    "ScreeningAnswers",
    "ScreeningOutcome",
    "SignInLink",
    "TimeOff",
    "TsTzRange",
    "Weekday",
    "WaitlistEntry",
    "WaitlistEntryQuerySet",
    "WaitlistOffer",
    "WaitlistOfferQuerySet",
    "WindowTimes",
    "WorkingHours",
    "WorkingHoursExclusionConstraint",
    "hash_sign_in_token",
    "new_reference",
]
