"""
Settings shared by every environment.

Everything that differs between a laptop and production is read from the
environment (12-factor). The defaults are a working local set-up on SQLite;
`production.py` refuses to start without the values it needs.
"""

import os
from datetime import timedelta
from pathlib import Path

import dj_database_url
from django.core.exceptions import ImproperlyConfigured
from django.utils.csp import CSP

BASE_DIR = Path(__file__).resolve().parent.parent.parent


def env(name, default=None):
    return os.environ.get(name, default)


def env_bool(name, default=False):
    value = os.environ.get(name)
    if value is None or value == "":
        return default
    lowered = value.strip().lower()
    if lowered in {"1", "true", "yes", "on"}:
        return True
    if lowered in {"0", "false", "no", "off"}:
        return False
    raise ImproperlyConfigured(f"{name} must be true or false, not {value!r}.")


def env_list(name, default=""):
    return [item.strip() for item in os.environ.get(name, default).split(",") if item.strip()]


DEBUG = env_bool("DEBUG", False)
SECRET_KEY = env("SECRET_KEY", "")
ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", "localhost,127.0.0.1,[::1]")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS")

INSTALLED_APPS = [
    "django.contrib.admin",
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    # Whitenoise serves static files under `runserver` too, so local and
    # production behave the same.
    "whitenoise.runserver_nostatic",
    "django.contrib.staticfiles",
    "django.contrib.sitemaps",
    # For the exclusion constraint and range functions on PostgreSQL.
    "django.contrib.postgres",
    "crispy_forms",
    "crispy_bootstrap5",
    "phonenumber_field",
    "axes",
    "django_otp",
    "django_otp.plugins.otp_totp",
    # After django-otp's device admin, which its own admin replaces.
    "staff_access",
    "django_tasks_db",
    "django_htmx",
    # Makes the photographs' renditions and records them (treatments/renditions.py).
    "easy_thumbnails",
    "treatments",
    "booking",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    "django.middleware.csp.ContentSecurityPolicyMiddleware",
    # Before anything reads the session or the database (see its docstring).
    "clinic_site.middleware.RefuseNulMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.middleware.gzip.GZipMiddleware",
    # ETags for every page: a browser revisiting an unchanged page gets a 304.
    "django.middleware.http.ConditionalGetMiddleware",
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "clinic_site.middleware.SecurityHeadersMiddleware",
    # Each request reads the shared version numbers at most once (clinic_site/versions.py).
    "clinic_site.versions.SharedVersionsMiddleware",
    # Serves cached content pages (treatments/caching.py): after everything
    # that adds headers, before the session, CSRF, authentication and
    # messages, which a page that is the same for everyone never needs.
    "treatments.caching.PageCacheMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "django.middleware.common.CommonMiddleware",
    # request.htmx: the booking page sends htmx its steps alone (booking/views/bookings.py).
    "django_htmx.middleware.HtmxMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    # Staff sessions' time limits, then whether this session passed the
    # second factor (django-otp), then where an account without it may go.
    "staff_access.sessions.StaffSessionLimitsMiddleware",
    "django_otp.middleware.OTPMiddleware",
    "staff_access.middleware.SecondFactorMiddleware",
    "clinic_site.middleware.DatabaseUnavailableMiddleware",
    # Last, as django-axes requires: it answers locked-out sign-ins.
    "axes.middleware.AxesMiddleware",
]

# django-axes guards the staff sign-in against password guessing. Attempts
# are counted in the database, so the lockout holds across every worker and
# instance.
AUTHENTICATION_BACKENDS = [
    "axes.backends.AxesStandaloneBackend",
    "django.contrib.auth.backends.ModelBackend",
]
AXES_FAILURE_LIMIT = int(env("AXES_FAILURE_LIMIT", "5"))
AXES_COOLOFF_TIME = timedelta(minutes=int(env("AXES_COOLOFF_MINUTES", "15")))
# Per account and address: an attacker elsewhere cannot lock a colleague out.
AXES_LOCKOUT_PARAMETERS = [["username", "ip_address"]]
# Cleared by staff_access/lockout.py once sign-in is complete (the second
# factor too), not by every right password: see its docstring.
AXES_RESET_ON_SUCCESS = False
# Never store a typed one-time code with a failed attempt.
AXES_SENSITIVE_PARAMETERS = ["username", "ip_address", "code"]
AXES_LOCKOUT_TEMPLATE = "admin_locked_out.html"
# Renders that template with a Retry-After header.
AXES_LOCKOUT_CALLABLE = "clinic_site.views.staff_sign_in_locked_out"
# The same reading of X-Forwarded-For as the booking rate limit.
AXES_CLIENT_IP_CALLABLE = "booking.ratelimit.client_ip"
# Axes would log every failure with the address and username; the attempts
# are in the admin (Access attempts) for staff who need them.
AXES_VERBOSE = False

# Two-factor sign-in (staff_access/): staff who can read clients' health
# answers or manage staff accounts, and superusers, sign in with a code from
# an authenticator app after their password; this extends it to all staff.
TWO_FACTOR_FOR_ALL_STAFF = env_bool("TWO_FACTOR_FOR_ALL_STAFF", False)
# Staff sessions end after this long without a request, and this long after
# signing in whatever happens (staff_access/sessions.py). Clients' sessions
# keep SESSION_COOKIE_AGE.
STAFF_SESSION_IDLE_MINUTES = int(env("STAFF_SESSION_IDLE_MINUTES", "30"))
STAFF_SESSION_MAX_HOURS = int(env("STAFF_SESSION_MAX_HOURS", "12"))

ROOT_URLCONF = "clinic_site.urls"
WSGI_APPLICATION = "clinic_site.wsgi.application"

TEMPLATES = [
    {
        "BACKEND": "django.template.backends.django.DjangoTemplates",
        "DIRS": [BASE_DIR / "templates"],
        "APP_DIRS": True,
        "OPTIONS": {
            "context_processors": [
                "django.template.context_processors.request",
                "django.contrib.auth.context_processors.auth",
                "django.contrib.messages.context_processors.messages",
                "treatments.context_processors.clinic",
            ],
        },
    },
]

DATABASES = {
    "default": dj_database_url.config(
        default=f"sqlite:///{BASE_DIR / 'db.sqlite3'}",
        conn_max_age=int(env("CONN_MAX_AGE", "60")),
        conn_health_checks=True,
    )
}
if DATABASES["default"]["ENGINE"] == "django.db.backends.sqlite3":
    # Local mode on SQLite: take the write lock when a transaction starts and
    # wait for it, so simultaneous bookings queue up instead of failing with
    # "database is locked".
    DATABASES["default"].setdefault("OPTIONS", {}).update(
        {"transaction_mode": "IMMEDIATE", "timeout": 20, "init_command": "PRAGMA journal_mode=WAL;"}
    )
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {"NAME": "django.contrib.auth.password_validation.MinimumLengthValidator"},
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

LANGUAGE_CODE = "en-us"
USE_I18N = True
USE_TZ = True
# Stored datetimes are UTC; the clinic's own zone is used for display and for
# working out consultation hours.
TIME_ZONE = env("CLINIC_TIME_ZONE", "America/New_York")

STATIC_URL = "/static/"
STATIC_ROOT = Path(env("STATIC_ROOT", str(BASE_DIR / "staticfiles")))
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {"BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"},
}

# Photographs staff upload and their renditions: local files by default
# (nginx serves them in production, Django under `make run` and `make audit`);
# an S3-compatible store through django-storages when several instances run
# (README, "Photographs").
MEDIA_URL = "/media/"
MEDIA_ROOT = Path(env("MEDIA_ROOT", str(BASE_DIR / "media")))
SERVE_MEDIA = env_bool("SERVE_MEDIA", True)
# Every rendition's width and height are kept with its record, so nothing
# opens a rendition to learn its size.
THUMBNAIL_CACHE_DIMENSIONS = True
# libavif's speed 8 makes a rendition in about a tenth of the time of its
# default (6), for a file a few per cent larger.
THUMBNAIL_IMAGE_SAVE_OPTIONS = {"AVIF": {"speed": 8}}
# Short names of letters, digits, - and _ (a hash of the original's name, the
# size, a hash of the options): the default namer's commas would be read as
# separators in a srcset.
THUMBNAIL_NAMER = "easy_thumbnails.namers.source_hashed"

CRISPY_ALLOWED_TEMPLATE_PACKS = "bootstrap5"
CRISPY_TEMPLATE_PACK = "bootstrap5"

# The pages carry no inline scripts or styles, so the policy can be strict
# from the first day rather than tightened later.
SECURE_CSP = {
    "default-src": [CSP.NONE],
    "script-src": [CSP.SELF],
    "style-src": [CSP.SELF],
    "img-src": [CSP.SELF, "data:"],
    "font-src": [CSP.SELF],
    "connect-src": [CSP.SELF],
    "form-action": [CSP.SELF],
    "frame-ancestors": [CSP.NONE],
    "base-uri": [CSP.NONE],
    "object-src": [CSP.NONE],
}
SECURE_REFERRER_POLICY = "same-origin"
PERMISSIONS_POLICY = (
    "accelerometer=(), camera=(), geolocation=(), gyroscope=(), magnetometer=(), "
    "microphone=(), payment=(), usb=(), browsing-topics=()"
)
SECURE_CONTENT_TYPE_NOSNIFF = True
X_FRAME_OPTIONS = "DENY"

# Canonical links, Open Graph URLs and the sitemap use this origin, so the
# site never advertises whatever Host header a request happened to carry.
SITE_URL = env("SITE_URL", "http://127.0.0.1:8000").rstrip("/")

# The clinic's public details: shown in the footer and in the MedicalBusiness
# structured data. Set them per deployment.
CLINIC = {
    "name": env("CLINIC_NAME", "Clearview Skin Clinic"),
    "phone": env("CLINIC_PHONE", "+1 212 555 0147"),
    "email": env("CLINIC_EMAIL", "hello@clearview-clinic.example"),
    "street_address": env("CLINIC_STREET_ADDRESS", "120 Madison Avenue, Suite 4"),
    "locality": env("CLINIC_LOCALITY", "New York"),
    "region": env("CLINIC_REGION", "NY"),
    "postal_code": env("CLINIC_POSTAL_CODE", "10016"),
    "country": env("CLINIC_COUNTRY", "US"),
}
# The name authenticator apps show beside a staff member's account.
OTP_TOTP_ISSUER = CLINIC["name"]

# Django 6.1's MAILERS. Production sends through SMTP configured by the
# environment; local mode prints mail to the console.
SMTP_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
EMAIL_BACKEND_PATH = env("EMAIL_BACKEND", SMTP_BACKEND)
MAILERS = {
    "default": {
        "BACKEND": EMAIL_BACKEND_PATH,
        # The connection options only mean something to the SMTP backend;
        # other backends (console, dummy) refuse them.
        "OPTIONS": {
            "host": env("EMAIL_HOST", "localhost"),
            "port": int(env("EMAIL_PORT", "25")),
            "username": env("EMAIL_HOST_USER", ""),
            "password": env("EMAIL_HOST_PASSWORD", ""),
            "use_tls": env_bool("EMAIL_USE_TLS", False),
            "timeout": int(env("EMAIL_TIMEOUT", "10")),
        }
        if EMAIL_BACKEND_PATH == SMTP_BACKEND
        else {},
    }
}
DEFAULT_FROM_EMAIL = env("DEFAULT_FROM_EMAIL", "bookings@clearview-clinic.example")
SERVER_EMAIL = DEFAULT_FROM_EMAIL

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {
        "plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"},
    },
    "handlers": {
        "console": {"class": "logging.StreamHandler", "formatter": "plain"},
    },
    "root": {"handlers": ["console"], "level": env("LOG_LEVEL", "INFO")},
}

# Moving the admin off /admin/ keeps it out of the way of scripted attacks.
ADMIN_URL = env("ADMIN_URL", "admin/").strip("/") + "/"

# Shared by every worker and instance in production (rate limits must hold
# across all of them); a per-process memory cache when REDIS_URL is unset.
# clinic_site.cache.RedisCache is Django's RedisCache keeping one Redis client
# per process instead of building one for every call.
if env("REDIS_URL"):
    CACHES = {
        "default": {
            "BACKEND": "clinic_site.cache.RedisCache",
            "LOCATION": env("REDIS_URL"),
            "KEY_PREFIX": "clinic",
            "OPTIONS": {"socket_connect_timeout": 1, "socket_timeout": 1},
        }
    }
else:
    CACHES = {"default": {"BACKEND": "django.core.cache.backends.locmem.LocMemCache"}}

# Content pages (and the guide's results) are cached whole until staff edit
# content (treatments/caching.py), stored gzipped with their ETag.
CONTENT_CACHE_SECONDS = int(env("CONTENT_CACHE_SECONDS", "600"))
# How long browsers and shared caches may reuse a cached content page before
# revalidating it with its ETag (Cache-Control: public, max-age): an edit
# reaches a browser that already holds the page within this long.
CONTENT_CACHE_MAX_AGE = int(env("CONTENT_CACHE_MAX_AGE", "60"))
# The booking page is cached for everyone between changes to its free times
# (booking/views/page_cache.py), this long at most: a day coming into the booking
# horizon shows within it. 0 turns the cache off, and the booking rules are
# then read for every request.
AVAILABILITY_CACHE_SECONDS = int(env("AVAILABILITY_CACHE_SECONDS", "300"))

# How many reverse proxies in front of the app add to X-Forwarded-For; 0
# means the app faces the internet and REMOTE_ADDR is the visitor.
TRUSTED_PROXY_COUNT = int(env("TRUSTED_PROXY_COUNT", "0"))

# Consultation booking.
PHONENUMBER_DEFAULT_REGION = env("PHONENUMBER_DEFAULT_REGION", "US")
BOOKING_RATE_LIMIT = int(env("BOOKING_RATE_LIMIT", "5"))  # submissions per address...
BOOKING_RATE_WINDOW_SECONDS = int(env("BOOKING_RATE_WINDOW_SECONDS", "600"))  # ...in this window
BOOKING_MIN_FILL_SECONDS = float(env("BOOKING_MIN_FILL_SECONDS", "3"))
# Upcoming requests waiting for confirmation that one email address, and one
# phone number, may hold (from any IP address; staff are exempt).
BOOKING_REQUESTS_PER_CONTACT = int(env("BOOKING_REQUESTS_PER_CONTACT", "2"))
BOOKING_FORM_MAX_AGE_SECONDS = int(env("BOOKING_FORM_MAX_AGE_SECONDS", str(24 * 3600)))
BOOKING_REMINDER_HOURS = int(env("BOOKING_REMINDER_HOURS", "24"))
BOOKING_RETENTION_MONTHS = int(env("BOOKING_RETENTION_MONTHS", "24"))
# Longer than the booking horizon, so a link works until the consultation.
MANAGE_LINK_MAX_AGE_DAYS = int(env("MANAGE_LINK_MAX_AGE_DAYS", "120"))
# How long a waitlist offer's claim link works (it always ends before the
# offered time's minimum notice).
WAITLIST_OFFER_HOURS = float(env("WAITLIST_OFFER_HOURS", "2"))
# Waitlist joins per address in the booking rate limit's window.
WAITLIST_RATE_LIMIT = int(env("WAITLIST_RATE_LIMIT", "5"))

# "My visits": a returning client's page, signed in by an emailed link.
# The link works once, for this many minutes.
MY_VISITS_LINK_MINUTES = int(env("MY_VISITS_LINK_MINUTES", "30"))
# How long a browser stays signed in to "My visits".
MY_VISITS_SESSION_DAYS = int(env("MY_VISITS_SESSION_DAYS", "7"))
# Sign-in links asked for, per address and per IP address, in this window.
MY_VISITS_LINKS_PER_ADDRESS = int(env("MY_VISITS_LINKS_PER_ADDRESS", "3"))
MY_VISITS_LINKS_PER_IP = int(env("MY_VISITS_LINKS_PER_IP", "10"))
MY_VISITS_RATE_WINDOW_SECONDS = int(env("MY_VISITS_RATE_WINDOW_SECONDS", "900"))

# A friendly page, rendered with the site's frame, when a form's CSRF check fails.
CSRF_FAILURE_VIEW = "clinic_site.views.csrf_failure"

# Staff sign in only through the admin, so that is where a sign-in lands when
# its `next` is missing or unsafe (another site's address): Django's default,
# /accounts/profile/, is no page here (404).
LOGIN_REDIRECT_URL = "admin:index"

# Background work (booking emails) goes through Django's tasks framework.
# The database backend keeps each task in a table of the site's own database,
# written with the request's connection when the booking commits, and
# `manage.py db_worker` runs them in a process of its own: no thread in a web
# worker, so restarting gunicorn never strands an email. TASK_BACKEND can name
# another backend (Django's ImmediateBackend runs each task at once, in the
# process that enqueues it; the tests use it).
TASKS = {"default": {"BACKEND": env("TASK_BACKEND", "django_tasks_db.DatabaseBackend")}}
# A task row still RUNNING after this long lost its worker (killed mid-task):
# `send_outbox` marks it failed. Well above any task's run time, so a slow
# task is never taken for a dead one.
TASK_STALE_MINUTES = int(env("TASK_STALE_MINUTES", "15"))

# The benchmark's framework-floor view (/_floor); off unless a benchmark asks.
BENCHMARK_FLOOR_VIEW = env_bool("BENCHMARK_FLOOR_VIEW", False)
