"""The search page: the header's box lands here (docs/search.md)."""

from __future__ import annotations

from django.http import HttpRequest, HttpResponse
from django.shortcuts import render

from tandem.engines.textsearch import MAX_QUERY_LENGTH
from tandem.org.models import Person
from tandem.org.pages import staff_page
from tandem.refusal import Refused
from tandem.search.queries import PAGE_SIZE, search_requests


@staff_page
def search(request: HttpRequest, me: Person) -> HttpResponse:
    text = request.GET.get("q")
    page = request.GET.get("page", "")
    context = {"q": text or "", "limit": MAX_QUERY_LENGTH, "results": None, "refusal": None, "size": PAGE_SIZE}
    if text is None:  # the page opened without a search: just the box
        return render(request, "search/results.html", context)
    try:
        context["results"] = search_requests(request.user, text, page=int(page) if page.isdigit() else 1)
    except Refused as refusal:
        context["refusal"] = refusal
        return render(request, "search/results.html", context, status=refusal.status)
    return render(request, "search/results.html", context)
