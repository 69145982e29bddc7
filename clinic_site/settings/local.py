"""Local development: `make run` on a laptop. Never used in production."""

from .base import *  # noqa: F403
from .base import env, env_bool

DEBUG = env_bool("DEBUG", True)
# A fixed key is fine here: local mode only ever serves 127.0.0.1.
SECRET_KEY = env("SECRET_KEY", "local-development-only-not-secret")
# Read by the `ensure_local_staff` command, which refuses to run elsewhere.
LOCAL_MODE = True
# Mail is printed to the console unless EMAIL_BACKEND asks for another
# backend, which then takes base.py's settings (SMTP host, port, ...).
if not env("EMAIL_BACKEND"):
    MAILERS = {"default": {"BACKEND": "django.core.mail.backends.console.EmailBackend"}}
