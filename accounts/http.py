import ipaddress

from django.conf import settings
from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from accounts.models import Employment, User


class AppRequest(HttpRequest):
    """The request as our middleware leaves it, for typing views."""

    htmx: HtmxDetails
    user: User
    employment: Employment | None
    employments: list[Employment]


def client_address(request: HttpRequest) -> str:
    """The address the request came from: REMOTE_ADDR, unless that is one of TRUSTED_PROXIES.

    Behind a trusted proxy, X-Forwarded-For is read from the right, each hop having been appended
    by the proxy before it: the first address that is not a trusted proxy is the client. What
    lies to its left was written by the client and is never believed. A trusted hop that forwards
    garbage leaves that hop as the address.
    """
    address = request.META.get("REMOTE_ADDR", "")
    proxies = [ipaddress.ip_network(proxy) for proxy in settings.TRUSTED_PROXIES]
    if not _within(address, proxies):
        return address
    forwarded = request.META.get("HTTP_X_FORWARDED_FOR", "")
    for hop in reversed([hop.strip() for hop in forwarded.split(",") if hop.strip()]):
        if not _is_address(hop):
            break
        address = hop
        if not _within(hop, proxies):
            break
    return address


def _is_address(text: str) -> bool:
    try:
        ipaddress.ip_address(text)
    except ValueError:
        return False
    return True


def _within(text: str, networks: list[ipaddress.IPv4Network | ipaddress.IPv6Network]) -> bool:
    try:
        address = ipaddress.ip_address(text)
    except ValueError:
        return False
    return any(address in network for network in networks)
