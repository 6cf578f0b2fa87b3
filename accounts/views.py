from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse, HttpResponseRedirect
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.http import require_POST

from accounts.http import AppRequest
from accounts.middleware import SESSION_KEY
from accounts.signals import organisation_switched


@login_required
@require_POST
def switch_organisation(request: AppRequest) -> HttpResponse:
    try:
        organisation_id = int(request.POST.get("organisation", ""))
    except ValueError:
        raise Http404 from None
    employment = next(
        (e for e in request.employments if e.organisation_id == organisation_id), None
    )
    if employment is None:
        raise Http404
    organisation_switched.send(sender=None, user=request.user, employment=employment)
    request.session[SESSION_KEY] = employment.organisation_id
    target = request.POST.get("next", "")
    if not url_has_allowed_host_and_scheme(target, allowed_hosts={request.get_host()}):
        target = reverse("messenger:home")
    return HttpResponseRedirect(target)
