"""The agreement as a public page: /agreement (the current version) and /agreement/v<N> (any
published version, a stable URL that the checkout's consent text and the evidence link to)."""

from django.http import Http404, HttpRequest, HttpResponse
from django.shortcuts import render
from django.views.decorators.http import require_GET

from tradeline.agreements.selectors import agreement_current, agreement_get


@require_GET
def agreement_page(request: HttpRequest, version: int | None = None) -> HttpResponse:
    row = agreement_current() if version is None else agreement_get(version=version)
    if row is None:
        raise Http404("No such agreement version")
    current = agreement_current()
    return render(request, "agreements/agreement.html",
                  {"agreement": row, "is_current": current is not None and current.pk == row.pk,
                   "current": current})
