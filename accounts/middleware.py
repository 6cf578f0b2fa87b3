import time
from collections.abc import Callable
from urllib.parse import urlencode, urlsplit

from django.conf import settings
from django.contrib import messages
from django.contrib.auth import logout
from django.contrib.auth.views import redirect_to_login
from django.http import HttpRequest, HttpResponse, HttpResponseRedirect
from django.shortcuts import resolve_url
from django.urls import reverse
from django.utils import translation
from django.utils.cache import add_never_cache_headers
from django.utils.translation import gettext as _

from accounts import agreement
from accounts.http import AppRequest
from accounts.models import Employment

SESSION_KEY = "working_organisation_id"


class WorkingOrganisationMiddleware:
    """Sets request.employment: the organisation the user works in right now (R18).

    A person employed by several organisations picks one with the switcher; the choice is kept
    in the session and checked against their active employments on every request.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: AppRequest) -> HttpResponse:
        request.employment = None
        request.employments = []
        # A background poll shows no organisation's work: it need not pay for the query.
        if request.user.is_authenticated and request.path not in settings.SESSION_PASSIVE_PATHS:
            employments = list(
                Employment.objects.active().filter(user=request.user).select_related("organisation")
            )
            chosen = request.session.get(SESSION_KEY)
            current = next((e for e in employments if e.organisation_id == chosen), None)
            request.employments = employments
            request.employment = current or (employments[0] if employments else None)
        return self.get_response(request)


class NoStoreForAuthenticatedMiddleware:
    """Pages seen by a logged-in user may hold patient data: never keep them in any cache.

    A view whose response holds none may set `response.no_store_exempt` and its own
    Cache-Control (the navigation's poll, revalidated by ETag on every request).
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        response = self.get_response(request)
        if request.user.is_authenticated and not getattr(response, "no_store_exempt", False):
            add_never_cache_headers(response)
        return response


class SwedishFirstLocaleMiddleware:
    """Swedish unless the user has chosen English with the language switch.

    Django's LocaleMiddleware would follow the browser's Accept-Language, and many care-unit
    computers are set up in English; the product speaks Swedish first.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        chosen = request.COOKIES.get(settings.LANGUAGE_COOKIE_NAME, "")
        language = chosen if chosen in dict(settings.LANGUAGES) else settings.LANGUAGE_CODE
        translation.activate(language)
        request.LANGUAGE_CODE = language
        response = self.get_response(request)
        response.headers.setdefault("Content-Language", language)
        return response


IDLE_KEY = "last_seen"
STARTED_KEY = "session_started"


class IdleTimeoutMiddleware:
    """Logs a user out after SESSION_IDLE_MINUTES without doing anything, and after
    SESSION_MAX_HOURS in any case.

    Background polls (the navigation's unread counts) do not count as activity, or an open tab
    would keep a session alive forever on an unattended computer.
    """

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        if request.user.is_authenticated:
            now = int(time.time())
            last_seen = request.session.get(IDLE_KEY, now)
            started = request.session.setdefault(STARTED_KEY, now)
            if (
                now - last_seen > settings.SESSION_IDLE_SECONDS
                or now - started > settings.SESSION_COOKIE_AGE
            ):
                logout(request)
                messages.info(request, _("Du har loggats ut efter en tids inaktivitet."))
                # The idle warning sends the browser to the login page itself, with its own
                # ?next=: that one is kept rather than pointing back at the login page.
                if request.path != resolve_url(settings.LOGIN_URL):
                    return full_page_redirect(request, redirect_to_login(request.get_full_path()))
            elif request.path not in settings.SESSION_PASSIVE_PATHS:
                request.session[IDLE_KEY] = now
        return full_page_redirect(request, self.get_response(request))


def full_page_redirect(request: HttpRequest, response: HttpResponse) -> HttpResponse:
    """An htmx request sent to the login page (the session ended) leaves the whole page.

    htmx would follow the redirect and paint the login form into the part it swaps, the
    navigation, while a thread and its patient stayed on screen. HX-Redirect makes the browser
    load the login page instead, coming back to the page it was on, not to the poll.
    """
    login = resolve_url(settings.LOGIN_URL)
    if not (
        request.headers.get("HX-Request")
        and response.status_code in (301, 302)
        and urlsplit(response["Location"]).path == login
    ):
        return response
    current = urlsplit(request.headers.get("HX-Current-URL", ""))
    back = current.path if current.path.startswith("/") else "/"
    if current.query:
        back += "?" + current.query
    redirect = HttpResponse(status=204)
    redirect["HX-Redirect"] = f"{login}?{urlencode({'next': back})}"
    return redirect


class ConfidentialityAgreementMiddleware:
    """Nothing is reachable until the user has accepted the current confidentiality agreement
    (R17). The accepted version sits in the session (set at login), so the gate costs no query.

    Must come after the authentication and htmx middleware.
    """

    EXEMPT_VIEWS = frozenset(
        {
            "accounts:login",
            "accounts:logout",
            "accounts:agreement",
            "accounts:sso_start",
            "accounts:sso_callback",
            "accounts:sso_refused",
            "accounts:keep_alive",  # shows nothing; the agreement page has the idle warning too
            "set_language",
            # R20's Atom feed: public, for feed readers that cannot sign in; no patient data.
            "messenger:notice_feed",
            "messenger:accessibility",  # public: the accessibility statement
        }
    )

    def __init__(self, get_response: Callable[[HttpRequest], HttpResponse]) -> None:
        self.get_response = get_response

    def __call__(self, request: HttpRequest) -> HttpResponse:
        return self.get_response(request)

    def process_view(
        self,
        request: HttpRequest,
        view_func: Callable[..., HttpResponse],
        view_args: list[object],
        view_kwargs: dict[str, object],
    ) -> HttpResponse | None:
        if not request.user.is_authenticated:
            return None
        if request.session.get(agreement.SESSION_KEY, 0) >= agreement.CURRENT_VERSION:
            return None
        match = request.resolver_match
        if match is not None and match.view_name in self.EXEMPT_VIEWS:
            return None
        if request.headers.get("HX-Request"):
            # A polled fragment must not swap the agreement page into the navigation.
            return HttpResponse(status=204)
        target = reverse("accounts:agreement")
        if request.method == "GET":
            target += "?" + urlencode({"next": request.get_full_path()})
        return HttpResponseRedirect(target)
