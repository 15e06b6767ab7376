"""The person's notifications: what is their move, and whether they also want it by email."""

from __future__ import annotations

from django.contrib import messages
from django.http import HttpRequest, HttpResponse
from django.shortcuts import redirect, render
from django.urls import reverse
from django.views.decorators.http import require_POST

from tandem.notifications.actions import mark_read, set_email_preference
from tandem.notifications.models import Notification
from tandem.notifications.queries import notifications_visible_to
from tandem.org.models import Person
from tandem.org.pages import staff_page
from tandem.work.paging import NEWEST_FIRST, keyset_page, parse_cursor

PAGE_SIZE = 50
Kind = Notification.Kind
#: Where a notification about no request takes its reader: the page where they act on it (by URL
#: name, so this app depends on none of theirs).
PAGE_OF_KIND: dict[str, str] = {
    **dict.fromkeys((Kind.CHANGE_NOTICE, Kind.CHANGE_REMINDER, Kind.CHANGE_MOVED, Kind.CHANGE_COMMENT,
                     Kind.CHANGE_ANSWER, Kind.SERVICE_CHANGED), "changes:calendar"),
    Kind.PLAN_TO_REVIEW: "allocation:plan",
    Kind.LOAN: "allocation:loans",
    Kind.DEMAND_ASK: "demand:declare",
}


@staff_page
def notification_list(request: HttpRequest, me: Person) -> HttpResponse:
    qs = notifications_visible_to(request.user).select_related("request")
    page = keyset_page(
        qs,
        NEWEST_FIRST,
        after=parse_cursor(request.GET.get("after")),
        before=parse_cursor(request.GET.get("before")),
        size=PAGE_SIZE,
    )
    notes = [(note, reverse(PAGE_OF_KIND[note.kind]) if note.request_id is None and note.kind in PAGE_OF_KIND
              else None) for note in page.items]
    return render(request, "notifications/list.html", {"page": page, "notes": notes, "me": me})


@require_POST
@staff_page
def read_all(request: HttpRequest, me: Person) -> HttpResponse:
    count = mark_read(me)
    messages.success(request, f"Marked {count} notification{'s' if count != 1 else ''} as read.")
    return redirect("notifications:list")


@require_POST
@staff_page
def email_preference(request: HttpRequest, me: Person) -> HttpResponse:
    enabled = request.POST.get("email") == "on"
    set_email_preference(me, enabled)
    messages.success(
        request,
        "Email digests switched on: at most one an hour."
        if enabled
        else "Email digests switched off. Notifications still appear here.",
    )
    return redirect("notifications:list")
