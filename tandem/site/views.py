"""Pages that bring several areas together, so they live at the top (docs/architecture.md):
each keeps the URL and the name of the area it belongs to (``tandem.site.urls`` wires it in).

- the submit form of a service (``catalogue:submit``): the catalogue's intake, the work app's
  submission, and the promise Tandem would make (promises);
- a request's page (``work:request``): opening it reads the viewer's notifications about it;
- the team queue (``work:queue``): what is due first weighs the promise made to each requester;
- the management hub (``org:manage``): people and units, with the services to look after;
- a service's process review (``manage_services:reviews``): the review freezes the service's
  figures from the voice of its customers and its evidence.
"""

from __future__ import annotations

from django.contrib import messages
from django.forms import Form
from django.http import HttpRequest, HttpResponse
from django.shortcuts import get_object_or_404, redirect, render
from django.utils import timezone

from tandem.agreements.queries import calendar_for_request, turnaround_due
from tandem.catalogue import actions as catalogue_actions
from tandem.catalogue import runs
from tandem.catalogue.approvals import approval_notice
from tandem.catalogue.forms import ReviewForm
from tandem.catalogue.intake import intake_form_class
from tandem.catalogue.manage_views import editable_service
from tandem.catalogue.models import Service
from tandem.catalogue.queries import services_editable_by, services_visible_to
from tandem.notifications.actions import mark_read
from tandem.notifications.queries import notifications_visible_to
from tandem.org.models import Person, Side, Skill
from tandem.org.pages import staff_page
from tandem.org.queries import is_admin, is_client, people_managed_by, units_visible_to
from tandem.org.views import manage_page, page
from tandem.promises.queries import client_words, earliest_commitment, promises_visible_to, quote
from tandem.refusal import Conflict, Invalid, Refused
from tandem.voice.queries import service_figures
from tandem.work.actions import submit_request
from tandem.work.forms import SubmitForm, raw_values, refuse_invalid
from tandem.work.models import Case, Channel
from tandem.work.queries import cases_visible_to
from tandem.work.views import queue_page, request_page, visible_request

# --- asking for a service ------------------------------------------------------------------------


def _submit_page(
    request: HttpRequest,
    me: Person,
    service: Service,
    intake: Form,
    meta: SubmitForm,
    *,
    refusal: Refused | None = None,
) -> HttpResponse:
    channel = request.POST.get("channel") if request.method == "POST" else None
    if channel not in Channel.values or (channel == Channel.EXTERNAL and not service.external_allowed):
        channel = Channel.INTERNAL
    promise = quote(service, me, channel=channel)
    now = timezone.now()
    cutoffs = runs.cutoffs_for(service, me.unit.organisation_id)  # a client's own, else the service's
    run_field = next((f.label for f in service.fields.all() if f.key == service.run_field), "")
    return render(
        request,
        "catalogue/submit.html",
        {
            "service": service, "intake": intake, "meta": meta, "refusal": refusal, "quote": promise,
            "turnaround_due": turnaround_due(service, now, calendar_for_request(service, me.unit)),
            "run_now": runs.place(service, now, {}, rows=cutoffs), "run_field": run_field, "cutoffs": cutoffs,
            "approval": approval_notice(service, me),
        },
        status=refusal.status if refusal else 200,
    )


@staff_page
def submit(request: HttpRequest, me: Person, slug: str) -> HttpResponse:
    service = get_object_or_404(
        services_visible_to(request.user).filter(active=True).prefetch_related("fields"), slug=slug
    )
    cases = (
        cases_visible_to(request.user).filter(owner=me, status=Case.CaseStatus.OPEN).order_by("-id")
    )
    intake_class = intake_form_class(service)
    if request.method != "POST":
        meta = SubmitForm(service=service, cases=cases, initial={"case": request.GET.get("case")})
        return _submit_page(request, me, service, intake_class(prefix="intake"), meta)
    intake = intake_class(request.POST, request.FILES, prefix="intake")
    meta = SubmitForm(request.POST, request.FILES, service=service, cases=cases)
    field_files = {name: request.FILES.get(intake.add_prefix(name)) for name in intake.fields}
    try:
        refuse_invalid(meta)
        done = submit_request(
            me, service, raw_values(intake), field_files={k: v for k, v in field_files.items() if v},
            **meta.submission(),
        )
    except Refused as exc:
        meta.attach(exc)
        for key, said in exc.errors.items():  # e.g. the approver's address the action refused
            if key in intake.fields and key not in intake.errors:
                intake.add_error(key, list(said))
        if isinstance(exc, Conflict):
            meta.renew_token()
        return _submit_page(request, me, service, intake, meta, refusal=exc)
    if done.created:
        sr = done.request
        run = f" Missed {sr.late_for_cutoff}; it goes in {sr.run_words}." if sr.late_for_cutoff else (
            f" In time for {sr.run_words}." if sr.run_on else "")
        messages.success(request, f"Sent to {service.unit.name} as {sr.reference}.{run}")
    else:
        messages.info(request, f"This form was already sent: here is {done.request.reference}.")
    return redirect("work:request", pk=done.request)


# --- a request's page ----------------------------------------------------------------------------


@staff_page
def request_detail(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    sr = visible_request(request, pk)
    unread = list(
        notifications_visible_to(request.user)
        .filter(request=sr, read_at__isnull=True)
        .values_list("pk", flat=True)
    )
    if unread:
        mark_read(me, unread)
    if is_client(me):  # the promise in a client's words: no hours queued (docs/organisations.md)
        promise = promises_visible_to(request.user).filter(request=sr).first()
        if promise is not None:
            promise.slip_reason = client_words(promise.slip_reason)
            sr.promise = promise  # shown, never saved
    return request_page(request, me, sr)


# --- the team queue ------------------------------------------------------------------------------


@staff_page
def queue(request: HttpRequest, me: Person) -> HttpResponse:
    """A team's work, its own move first and the soonest due first within each section; a
    request is due at the earlier of the promise made to its requester (promises) and its
    agreement's deadline (work)."""
    return queue_page(request, me, due=earliest_commitment())


# --- management ----------------------------------------------------------------------------------


@manage_page
def hub(request: HttpRequest, me: Person) -> HttpResponse:
    services = services_editable_by(request.user)
    today = timezone.localdate()
    return page(
        request,
        "manage/hub.html",
        {
            "people_count": people_managed_by(request.user).filter(user__is_active=True).count(),
            "unit_count": units_visible_to(me.user).count(),
            "skill_count": Skill.objects.count(),
            "service_count": services.count(),
            "unpublished_count": services.filter(active=False).count(),
            "review_due_count": sum(1 for s in services.filter(active=True) if s.review_due_on < today),
            "leads_back_office": me.unit.side == Side.BACK or is_admin(me),
        },
    )


@manage_page
def service_review(request: HttpRequest, me: Person, pk: int) -> HttpResponse:
    """Record a process review; the service's measured figures are frozen into it."""
    service = editable_service(me, pk)
    form = ReviewForm(request.POST or None, initial={"reviewed_on": timezone.localdate(), "reviewer": service.owner_id})
    refusal: Refused | None = None
    if request.method == "POST":
        if form.is_valid():
            try:
                catalogue_actions.record_review(
                    me, service.pk, reviewer_id=form.cleaned_data["reviewer"].pk if form.cleaned_data["reviewer"]
                    else None,
                    reviewed_on=form.cleaned_data["reviewed_on"], findings=form.cleaned_data["findings"],
                    decisions=form.cleaned_data["decisions"],
                    follow_ups=[catalogue_actions.FollowUp(t, o, d) for t, o, d in form.follow_ups()],
                    figures=service_figures(service.pk),
                )
                messages.success(request, f"Review of {service.name} recorded; the next one is due "
                                          f"{Service.objects.get(pk=service.pk).review_due_on:%d %b %Y}.")
                return redirect("manage_services:reviews", pk=service.pk)
            except Refused as exc:
                refusal = exc
        else:
            refusal = Invalid("Some details are missing or wrong; correct them and record the review again.")
    reviews = service.reviews.select_related("reviewer__user").prefetch_related("actions__owner__user")
    history = service.history.select_related("actor__user")[:50]
    return page(request, "manage/service_review.html", {
        "service": service, "form": form, "reviews": reviews, "history": history,
    }, refusal)
