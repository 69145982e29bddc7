import unicodedata

from django.core.exceptions import ValidationError

CONTROL_CHARACTERS = (
    "This email address contains invisible control characters. Please type it again."
)
QUOTED_LOCAL_PART = (
    "Please enter your email address without quotation marks, like name@example.com."
)
IP_LITERAL_DOMAIN = (
    "Please enter an email address with a domain name, like name@example.com, not an IP address."
)
DOTLESS_DOMAIN = "Please enter your email address with a full domain name, like name@example.com."
SOURCE_ROUTED = "Please enter your email address without % or !, like name@example.com."


def validate_client_email(value):
    """
    Refuse the addresses Django's EmailValidator lets through because RFC 5321
    allows them, but that no message to a client can use: a quoted local
    part ("\\x1b[31mred"@example.com, ""@example.com) can carry control
    characters into the Reply-To header or be refused by every mail server,
    and an IP-literal domain (name@[192.0.2.1]) bypasses the domain's mail
    servers. So do a domain without a dot (name@localhost, which Django's
    validator allows by name: it is this server, or whichever machine the
    mail server calls so) and the old source-routing forms in the local part
    (name%other.example@example.com, other.example!name@example.com), which
    ask a relay to pass the message on to another host. People type none of
    these; they paste them, or a bot sends them, and each would hold a slot
    whose receipt never arrives, or goes elsewhere.
    """
    # A format character (a zero-width space, category Cf) passes Django's
    # check in an internationalised domain, and is as invisible as a control one.
    if any(unicodedata.category(char) in {"Cc", "Cf"} for char in value):
        raise ValidationError(CONTROL_CHARACTERS, code="control_characters")
    local_part, _, domain = value.rpartition("@")
    if '"' in local_part:
        raise ValidationError(QUOTED_LOCAL_PART, code="quoted_local_part")
    if domain.startswith("["):
        raise ValidationError(IP_LITERAL_DOMAIN, code="ip_literal_domain")
    if "." not in domain.strip("."):
        raise ValidationError(DOTLESS_DOMAIN, code="dotless_domain")
    if "%" in local_part or "!" in local_part:
        raise ValidationError(SOURCE_ROUTED, code="source_routed")


CONTROL_CHARACTERS_IN_ANSWER = (
    "This answer contains invisible control characters. Please type it again."
)
FORMAT_CHARACTERS_IN_ANSWER = (
    "This answer contains invisible formatting characters (such as a zero-width space "
    "or a text-direction mark), often copied along with text. Please type it again."
)


# The zero-width non-joiner and joiner are part of how some names are spelt
# (Persian, Hindi, Malayalam…) and of emoji sequences, and they reorder and
# hide nothing: they are kept. Every other format character is refused.
JOINERS = "\u200c\u200d"


def refuse_control_characters(value, allowed=""):
    """
    Refuse the characters no one types into a form, in either of Unicode's
    two invisible categories: control characters (Cc: escape sequences,
    backspaces, NUL) and format characters (Cf: zero-width spaces, the
    byte-order mark, and the marks, overrides and isolates that turn text
    around, as U+202E does), but the joiners some scripts spell with (JOINERS).
    Either kind makes what staff read in the admin, the CSV and emails differ
    from what it seems to say.
    """
    categories = {
        unicodedata.category(char) for char in value if char not in allowed and char not in JOINERS
    }
    if "Cc" in categories:
        raise ValidationError(CONTROL_CHARACTERS_IN_ANSWER, code="control_characters")
    if "Cf" in categories:
        raise ValidationError(FORMAT_CHARACTERS_IN_ANSWER, code="format_characters")
    return value


def normalise_client_email(value):
    """
    A client's address as "My visits" keys it: the booking form keeps what was
    typed (stripped) and compares addresses without regard to case, so the
    key is the stripped address in lower case, and lookups use `iexact`.
    """
    return (value or "").strip().lower()
