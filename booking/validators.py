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


def validate_client_email(value):
    """
    Refuse the addresses Django's EmailValidator lets through because RFC 5321
    allows them, but that no message to a client can use: a quoted local
    part ("\\x1b[31mred"@example.com, ""@example.com) can carry control
    characters into the Reply-To header or be refused by every mail server,
    and an IP-literal domain (name@[192.0.2.1]) bypasses the domain's mail
    servers. People type neither; they paste them, or a bot sends them, and
    each would hold a slot whose receipt never arrives.
    """
    if any(unicodedata.category(char) == "Cc" for char in value):
        raise ValidationError(CONTROL_CHARACTERS, code="control_characters")
    local_part, _, domain = value.rpartition("@")
    if '"' in local_part:
        raise ValidationError(QUOTED_LOCAL_PART, code="quoted_local_part")
    if domain.startswith("["):
        raise ValidationError(IP_LITERAL_DOMAIN, code="ip_literal_domain")


def refuse_control_characters(value, allowed=""):
    if any(unicodedata.category(char) == "Cc" and char not in allowed for char in value):
        raise ValidationError(
            "This answer contains invisible control characters. Please type it again."
        )
    return value
