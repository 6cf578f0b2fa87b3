from django.http import Http404

from accounts.http import AppRequest
from accounts.models import Employment


def working_employment(request: AppRequest) -> Employment:
    """The organisation the user works in now; someone with none can do nothing here."""
    if request.employment is None:
        raise Http404
    return request.employment
