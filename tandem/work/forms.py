"""Forms of the work pages. They type and shape what a person posts; the actions decide."""

from __future__ import annotations

import uuid
from collections.abc import Iterable
from datetime import datetime, timedelta
from typing import Any
from urllib.parse import urlencode

from django import forms
from django.conf import settings
from django.db import models
from django.db.models import QuerySet

from tandem.catalogue.models import Service
from tandem.org.models import Organisation, Person, Unit
from tandem.org.queries import client_unit_ids, is_admin, leads_unit, provider_unit_ids
from tandem.refusal import Invalid, Refused
from tandem.work.models import FINAL_STATUSES, TRANSITIONS, Case, Channel, ServiceRequest, Status
from tandem.work.paging import NEWEST_FIRST, OLDEST_FIRST, Sort
from tandem.work.queries import can_see_payload, can_work

TEXT_LIMIT_ATTRS = {"maxlength": str(settings.TANDEM_MAX_TEXT_LENGTH)}

# Refusals name the field in words ("Third party"); the forms name it in code ("party").
ERROR_FIELD_ALIASES = {"third party": "party", "customer reference": "customer_reference", "files": "attachments"}


class PageForm(forms.Form):
    """A form of the pages: no colon after labels, and refusals land on their fields."""

    def __init__(self, *args: Any, **kwargs: Any) -> None:
        kwargs.setdefault("label_suffix", "")
        super().__init__(*args, **kwargs)

    def attach(self, refusal: Refused) -> None:
        """Show an action's per-field errors next to the fields they are about."""
        if not hasattr(self, "cleaned_data"):
            self.is_valid()
        for key, messages in refusal.errors.items():
            name = ERROR_FIELD_ALIASES.get(key, key)
            if name in self.fields and name not in self.errors:
                self.add_error(name, list(messages))


def refuse_invalid(*forms_: forms.Form) -> None:
    """Raise ``Invalid`` when any of the forms has errors, so that every refusal looks alike."""
    errors = {name: [str(m) for m in msgs] for form in forms_ for name, msgs in form.errors.items()}
    if errors:
        raise Invalid(
            "Some details are missing or wrong; correct the highlighted fields and send again.",
            errors=errors,
        )


def long_text(
    label: str, *, rows: int = 3, required: bool = True, help_text: str = ""
) -> forms.CharField:
    # No max_length here: the action measures the text and says what to do with a long one.
    return forms.CharField(
        label=label,
        required=required,
        help_text=help_text,
        strip=False,
        widget=forms.Textarea(attrs={"rows": rows, **TEXT_LIMIT_ATTRS}),
    )


# --- submitting ----------------------------------------------------------------------------------


class CaseChoiceField(forms.ModelChoiceField):
    def label_from_instance(self, obj: Any) -> str:
        return f"{obj.reference} · {obj.customer_reference}: {obj.title}"


class MultipleFileInput(forms.ClearableFileInput):
    allow_multiple_selected = True


class FilesField(forms.FileField):
    """Several files in one input; their size and kind are the action's to check, so that the
    page and the API refuse the same files with the same words."""

    def __init__(self, **kwargs: Any) -> None:
        kwargs.setdefault("widget", MultipleFileInput())
        kwargs.setdefault("required", False)
        kwargs.setdefault("label", "Files")
        kwargs.setdefault("help_text", "Attach documents or pictures (optional).")
        super().__init__(**kwargs)

    def clean(self, data: Any, initial: Any = None) -> Any:
        # Empty files pass here: the action says which one and saves nothing.
        files = data if isinstance(data, list | tuple) else [data] if data else []
        return [f for f in files if f]


class SubmitForm(PageForm):
    """Everything on the submit page besides the service's own intake fields."""

    title = forms.CharField(
        label="Title",
        required=False,
        max_length=200,
        help_text="A few words to recognise the request by. Leave empty to use the service's name.",
    )
    channel = forms.ChoiceField(
        label="On behalf of",
        choices=[
            (Channel.INTERNAL, "Ourselves (internal)"),
            (Channel.EXTERNAL, "A customer (external)"),
        ],
        initial=Channel.INTERNAL,
        widget=forms.RadioSelect,
    )
    case = CaseChoiceField(
        label="Case",
        queryset=Case.objects.none(),
        to_field_name="reference",  # the options' values: no case id on a client's page
        required=False,
        empty_label="— no case —",
        help_text="Attach it to one of your open customer cases.",
    )
    token = forms.CharField(widget=forms.HiddenInput, max_length=80)
    attachments = FilesField()

    def __init__(self, *args: Any, service: Service, cases: QuerySet[Case], **kwargs: Any) -> None:
        kwargs.setdefault("initial", {}).setdefault("token", uuid.uuid4().hex)
        super().__init__(*args, **kwargs)
        case_field = self.fields["case"]
        assert isinstance(case_field, CaseChoiceField)
        case_field.queryset = cases
        if not service.external_allowed:
            self.fields["channel"] = forms.ChoiceField(
                choices=[(Channel.INTERNAL, "Internal")],
                initial=Channel.INTERNAL,
                widget=forms.HiddenInput,
            )

    def submission(self) -> dict[str, Any]:
        """The keyword arguments of ``submit_request`` besides the intake values."""
        data = self.cleaned_data
        return {
            "channel": data["channel"],
            "title": data["title"],
            "case_id": data["case"].pk if data["case"] else None,
            "idempotency_key": data["token"],
            "files": data.get("attachments") or [],
        }

    def renew_token(self) -> None:
        """A spent token with other details means the person means a new request: a new token."""
        fresh = dict(self.data.items())
        fresh["token"] = uuid.uuid4().hex
        self.data = fresh


def raw_values(form: forms.Form) -> dict[str, Any]:
    """What was typed in each field, before cleaning (the action cleans it itself)."""
    return {name: form.data.get(form.add_prefix(name), "") for name in form.fields}


class CaseForm(PageForm):
    customer_reference = forms.CharField(
        label="Customer reference",
        max_length=80,
        help_text="The customer's own reference: an account, a candidate or a contract number.",
    )
    title = forms.CharField(
        label="Title", max_length=200, help_text="What the customer's matter is about."
    )


# --- working a request ---------------------------------------------------------------------------


def jump_reason() -> forms.CharField:
    return forms.CharField(
        label="Reason", max_length=300, required=False,
        help_text="Only when earlier requests wait in the queue: why this one goes first.",
    )


class TakeForm(PageForm):
    """Pick or start: a request nobody holds is taken; out of the queue's order it needs a reason."""

    reason = jump_reason()


class AssignForm(PageForm):
    assignee = forms.TypedChoiceField(label="Give it to", coerce=int)
    reason = jump_reason()

    def __init__(self, *args: Any, members: Iterable[Person] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["assignee"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "— choose a person —")] + [(p.pk, p.display_name) for p in members]


class QuestionForm(PageForm):
    question = long_text(
        "Question for the requester",
        help_text="Say exactly what you need; the request waits on them until they answer.",
    )


class AnswerForm(PageForm):
    answer = long_text("Your answer", rows=4)
    attachments = FilesField()


class ThirdPartyForm(PageForm):
    party = forms.CharField(
        label="Waiting on", max_length=200, help_text="Who you wait for, e.g. “Acme Ltd accounts”."
    )
    note = long_text("Note", rows=2, required=False)


class TeamWaitForm(PageForm):
    unit = forms.TypedChoiceField(
        label="Waiting on team", coerce=int,
        help_text="The other back-office team whose part must be done first. The agreement clock keeps running.",
    )
    note = long_text("Note", rows=2, required=False, help_text="What you asked them for.")

    def __init__(self, *args: Any, teams: Iterable[Unit] = (), **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        field = self.fields["unit"]
        assert isinstance(field, forms.TypedChoiceField)
        field.choices = [("", "— choose a team —")] + [(u.pk, u.name) for u in teams]


class ResolveForm(PageForm):
    resolution = long_text(
        "Resolution note",
        rows=4,
        help_text="What was done. The requester reads this before accepting.",
    )


class ReasonForm(PageForm):
    reason = long_text("Reason", rows=2)


class ApproveForm(PageForm):
    note = forms.CharField(label="Note (optional)", max_length=2000, required=False,
                           widget=forms.Textarea(attrs={"rows": 2}))


class TimeForm(PageForm):
    duration = forms.CharField(label="Time spent", max_length=40,
                               help_text="Minutes (35) or hours and minutes (1 h 20 min).")
    worked_on = forms.DateField(label="Day worked", required=False, help_text="Today if left empty.",
                                widget=forms.DateInput(attrs={"type": "date"}))
    note = forms.CharField(label="On what (optional)", max_length=200, required=False)


class CommentForm(PageForm):
    KINDS = [
        ("shared", "Comment (both sides)"),
        ("internal", "Internal note (back office only)"),
        ("advice", "Advice for the requester"),
    ]

    comment = long_text("Comment", rows=3)
    kind = forms.ChoiceField(
        label="Kind", choices=KINDS, initial="shared", required=False, widget=forms.RadioSelect
    )
    addressed_to = forms.TypedChoiceField(
        label="Addressed to",
        coerce=int,
        required=False,
        empty_value=None,
        help_text="They are told it is their move.",
    )
    attachments = FilesField()

    def __init__(
        self, *args: Any, people: Iterable[Person] = (), back_office: bool = False, **kwargs: Any
    ) -> None:
        super().__init__(*args, **kwargs)
        addressee = self.fields["addressed_to"]
        assert isinstance(addressee, forms.TypedChoiceField)
        addressee.choices = [("", "— nobody in particular —")] + [
            (p.pk, p.display_name) for p in people
        ]
        if not back_office:
            # The requesting side writes plain comments only; the action would refuse the rest.
            self.fields["kind"] = forms.ChoiceField(
                choices=self.KINDS[:1], initial="shared", required=False, widget=forms.HiddenInput
            )


# --- the team queue ------------------------------------------------------------------------------

# The queue's sections, in the order of its usual view: the team's own move first, then what
# waits on someone else, then what waits for the requester to accept it, then what is over.
QUEUE_SECTIONS: list[tuple[str, tuple[Status, ...]]] = [
    ("To do", (Status.NEW, Status.REOPENED, Status.ASSIGNED, Status.IN_PROGRESS)),
    ("Waiting on someone else",
     (Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY, Status.WAITING_TEAM, Status.WAITING_APPROVAL)),
    ("Resolved, waiting for the requester to accept", (Status.RESOLVED,)),
    ("Finished", (Status.CLOSED, Status.CANCELLED, Status.DECLINED)),
]
QUEUE_SECTION = models.Case(
    *(models.When(status__in=statuses, then=models.Value(n)) for n, (_, statuses) in enumerate(QUEUE_SECTIONS)),
    default=models.Value(len(QUEUE_SECTIONS) - 1),
)
SORTS: dict[str, tuple[str, Sort]] = {
    # Each section by what is due first (``queue_due``, given by the page), the oldest on a tie.
    "due": ("Work to do first", (("queue_section", False), ("queue_due", False), ("id", False))),
    "oldest": ("Oldest first", OLDEST_FIRST),
    "newest": ("Newest first", NEWEST_FIRST),
}
STATUS_FILTERS = [("open", "Open"), ("all", "All statuses"), *Status.choices]
FINISHED_VIEWS = frozenset({"all", Status.CLOSED.value, Status.CANCELLED.value, Status.DECLINED.value})


class QueueFilterForm(PageForm):
    """The queue's filters. Every value is optional and falls back to the usual view."""

    unit = forms.TypedChoiceField(label="Unit", coerce=int, required=False)
    channel = forms.ChoiceField(
        label="Channel", choices=Channel.choices, required=False, widget=forms.HiddenInput
    )
    status = forms.ChoiceField(label="Status", choices=STATUS_FILTERS, required=False)
    service = forms.TypedChoiceField(label="Service", coerce=int, required=False, empty_value=None)
    assignee = forms.ChoiceField(label="Assignee", required=False)
    client = forms.ChoiceField(label="Client", required=False)
    age = forms.IntegerField(
        label="Older than (days)",
        min_value=0,
        max_value=3650,
        required=False,
        widget=forms.NumberInput(attrs={"inputmode": "numeric", "size": 4}),
    )
    sort = forms.ChoiceField(
        label="Sort", choices=[(k, v[0]) for k, v in SORTS.items()], required=False
    )

    def __init__(
        self,
        data: Any,
        *,
        units: list[Unit],
        unit: Unit,
        services: list[Service],
        members: list[Person],
        clients: list[Organisation] | None = None,
    ) -> None:
        data = data.copy()
        if not data.get("sort"):
            # Finished work has nothing left due, so a view that shows it comes oldest first;
            # the due order would also sort every request the team ever had on each page.
            data["sort"] = "oldest" if data.get("status") in FINISHED_VIEWS else "due"
        super().__init__(data, label_suffix="")
        self.unit_obj = unit
        self.members = members
        self._set_choices("unit", [(u.pk, u.name) for u in units])
        self._set_choices("service", [("", "Any service")] + [(s.pk, s.name) for s in services])
        self._set_choices(
            "assignee",
            [("", "Anyone"), ("me", "Me"), ("none", "Unassigned")]
            + [(str(p.pk), p.display_name) for p in members],
        )
        #: The client organisations whose requests the queue may hold (none: the filter is not shown).
        self.clients = list(clients or [])
        self._set_choices("client", [("", "Any client"), ("own", "Our own units")]
                          + [(str(o.pk), o.name) for o in self.clients])
        self.is_valid()  # a wrong filter value is shown as an error and otherwise ignored

    def _set_choices(self, name: str, choices: list[tuple[Any, str]]) -> None:
        field = self.fields[name]
        assert isinstance(field, forms.ChoiceField)
        field.choices = choices

    def value_of(self, name: str, default: Any = None) -> Any:
        value = self.cleaned_data.get(name)
        return default if value in (None, "") else value

    @property
    def chosen_channel(self) -> str:
        return self.value_of("channel", Channel.INTERNAL)

    @property
    def chosen_sort(self) -> Sort:
        return SORTS[self.value_of("sort", "due")][1]

    @property
    def sectioned(self) -> bool:
        """Rows come section by section (the usual view): the page heads each section."""
        return self.value_of("sort", "due") == "due"

    @staticmethod
    def sort_keys(due: Any) -> dict[str, Any]:
        """What each row's place and its Due column read besides its columns: its section, and
        when it is due (``due``, an expression on the request that is never NULL)."""
        return {"queue_section": QUEUE_SECTION, "queue_due": due}

    def apply(
        self, qs: QuerySet[ServiceRequest], me: Person, now: datetime
    ) -> QuerySet[ServiceRequest]:
        qs = qs.filter(unit=self.unit_obj, channel=self.chosen_channel)
        status = self.value_of("status", "open")
        if status == "open":
            # "IN (true)", not the bare column Django writes for "= true": SQLite only seeks
            # the (unit, channel, is_open, id) index on an equality-like test.
            qs = qs.filter(is_open__in=[True])
        elif status != "all":
            qs = qs.filter(status=status)
        if service := self.value_of("service"):
            qs = qs.filter(service_id=service)
        assignee = self.value_of("assignee")
        if assignee == "me":
            qs = qs.filter(assignee=me)
        elif assignee == "none":
            qs = qs.filter(assignee__isnull=True)
        elif assignee:
            qs = qs.filter(assignee_id=int(assignee))
        if age := self.value_of("age"):
            qs = qs.filter(submitted_at__lt=now - timedelta(days=age))
        client = self.value_of("client")
        if client == "own":
            qs = qs.filter(requesting_unit_id__in=provider_unit_ids())
        elif client:
            # by the client's units (a request has no column of its own for its client), so the
            # (unit, channel, is_open, id) index still leads
            qs = qs.filter(requesting_unit_id__in=client_unit_ids(int(client)))
        return qs

    def query_string(self, **changes: Any) -> str:
        """The current filters as a query string, with some changed (used by tabs and links)."""
        params = {name: self.cleaned_data.get(name) for name in self.fields}
        params.update(changes)
        return urlencode({k: v for k, v in params.items() if v not in (None, "")})


# --- which moves the request page offers ---------------------------------------------------------


def moves_for(me: Person, sr: ServiceRequest) -> set[str]:
    """The action forms worth showing this person now. The actions still decide: this only
    spares people buttons that would be refused."""
    status, moves = sr.status, set()
    lead = leads_unit(me, sr.unit_id)
    if can_work(me, sr):
        if status in (Status.NEW, Status.REOPENED, Status.ASSIGNED) and sr.assignee_id is None:
            moves.add("pick")
        if lead and status in (Status.NEW, Status.ASSIGNED, Status.REOPENED, Status.IN_PROGRESS):
            moves.add("assign")
        if status in (Status.NEW, Status.ASSIGNED, Status.REOPENED) and (
            sr.assignee_id in (None, me.pk) or lead
        ):
            moves.add("start")
        if status == Status.ASSIGNED and (sr.assignee_id == me.pk or lead):
            moves.add("unassign")
        if status == Status.IN_PROGRESS:
            moves |= {"ask", "wait", "wait_team", "resolve"}
        if status in (Status.WAITING_REQUESTER, Status.WAITING_THIRD_PARTY, Status.WAITING_TEAM):
            moves.add("resume")
        if status != Status.NEW:
            moves.add("log_time")
    if status == Status.WAITING_APPROVAL and me.pk == sr.approver_id:
        moves |= {"approve", "decline"}
    if me.pk == sr.requester_id or is_admin(me):
        if status == Status.WAITING_REQUESTER:
            moves.add("answer")
        if status == Status.RESOLVED:
            moves |= {"accept", "reopen"}
    if Status.CANCELLED in TRANSITIONS[status] and (me.pk == sr.requester_id or lead):
        moves.add("cancel")
    if status not in FINAL_STATUSES and can_see_payload(me, sr):
        moves.add("comment")
    return moves
