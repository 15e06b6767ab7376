"""Consultation comments and answers, the notice on the effective date (one a day per person),
acknowledgements and reminders, and telling the audience of a moved or cancelled change: through
the pages, the API and the worker's duty, on a real database."""

from __future__ import annotations

from collections import defaultdict
from datetime import UTC, date, datetime, timedelta

import pytest
import time_machine
from django.test import Client

from tandem.changes import actions, notices
from tandem.changes.models import Change, ChangeComment, ChangeReceipt, NoticeDay, Status
from tandem.notifications.models import Notification
from tandem.org.models import Person, Role
from tests.apiclient import ApiClient
from tests.cast import PASSWORD, Cast, make_person

pytestmark = pytest.mark.django_db(transaction=True)

TODAY = date(2027, 3, 3)  # a Wednesday
NOW = datetime(2027, 3, 3, 9, tzinfo=UTC)
KINDS = (Notification.Kind.CHANGE_NOTICE, Notification.Kind.CHANGE_REMINDER, Notification.Kind.CHANGE_MOVED)


@pytest.fixture(autouse=True)
def _today():
    with time_machine.travel(NOW, tick=False):
        yield


def client_for(person: Person) -> Client:
    client = Client()
    assert client.login(username=person.user.username, password=PASSWORD)
    return client


def draft(cast: Cast, title: str, effective_on: date, audiences: list[str], minutes: int = 10) -> Change:
    return actions.draft_change(cast.payroll_lead, cast.payroll.pk, actions.Draft(
        title=title, summary=f"{title}: what changes.", why="Because the law changed.", kind="policy",
        effective_on=effective_on, minutes=minutes, audiences=[actions.AudienceIn(a) for a in audiences],
    ))


def published(cast: Cast, title: str, effective_on: date, audiences: list[str]) -> Change:
    change = draft(cast, title, effective_on, audiences)
    return actions.publish_change(cast.payroll_lead, change.pk)


def notes(kind: str) -> list[Notification]:
    return list(Notification.objects.filter(kind=kind).order_by("id"))


# --- consultation ----------------------------------------------------------------------------------


def test_leads_of_the_audiences_comment_in_the_window_and_the_owner_answers_each(cast: Cast) -> None:
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    york_lead = make_person("york_lead", cast.york, Role.LEAD)
    change = draft(cast, "New expense limits", date(2027, 3, 15), ["leeds"])
    lead_api, owner_api = ApiClient(leeds_lead), ApiClient(cast.payroll_lead)
    url = f"/api/changes/{change.pk}/comments"

    # A draft takes no comments yet (and the lead does not see other units' drafts).
    assert lead_api.post(url, {"text": "Too soon"}).status_code == 404
    actions.open_consultation(cast.payroll_lead, change.pk, date(2027, 3, 10))

    refusals = [
        (lead_api, {"text": ""}, 422, "empty"),
        (lead_api, {"text": "   "}, 422, "empty"),
        (lead_api, {"text": "x" * 2001}, 422, "2001 characters"),
        (ApiClient(york_lead), {"text": "Not my audience"}, 403, "leads of the change's audiences"),
        (ApiClient(cast.consultant), {"text": "Not a lead"}, 403, "leads of the change's audiences"),
        (owner_api, {"text": "The owner"}, 403, "leads"),
    ]
    for api, body, status, says in refusals:
        response = api.post(url, body)
        assert response.status_code == status, response.json()
        assert says in str(response.json()), response.json()
    assert ChangeComment.objects.count() == 0

    created = lead_api.post(url, {"text": "Can the receipt be a photo?"})
    assert created.status_code == 201, created.json()
    comment_id = created.json()["id"]
    assert created.json()["audience"] == "leeds"

    answer = f"/api/changes/{change.pk}/comments/{comment_id}/answer"
    assert ApiClient(cast.payroll_agent).post(answer, {"text": "Yes"}).status_code == 403
    assert lead_api.post(answer, {"text": "I answer myself"}).status_code == 403
    assert owner_api.post(answer, {"text": ""}).status_code == 422
    assert owner_api.post(answer, {"text": "y" * 2001}).status_code == 422
    assert owner_api.post(f"/api/changes/{change.pk}/comments/999999/answer", {"text": "Yes"}).status_code == 404
    assert ChangeComment.objects.get().answered_at is None

    # Publishing needs every comment answered, and what changed because of them.
    publish = f"/api/changes/{change.pk}/publish"
    unanswered = owner_api.post(publish, {"consultation_outcome": "Photos allowed."})
    assert unanswered.status_code == 422 and "not answered" in unanswered.json()["errors"]["comments"][0]
    assert owner_api.post(answer, {"text": "Yes: a clear photo will do."}).status_code == 200
    silent = owner_api.post(publish)
    assert silent.status_code == 422 and "consultation_outcome" in silent.json()["errors"]
    assert Change.objects.get(pk=change.pk).status == Status.CONSULTATION

    # The window closes at the end of its last day.
    with time_machine.travel(datetime(2027, 3, 10, 20, tzinfo=UTC), tick=False):
        assert lead_api.post(url, {"text": "Last day"}).status_code == 201
    with time_machine.travel(datetime(2027, 3, 11, 9, tzinfo=UTC), tick=False):
        late = lead_api.post(url, {"text": "Too late"})
        assert late.status_code == 409 and "closed on 10 Mar 2027" in late.json()["detail"]
    assert ChangeComment.objects.count() == 2
    last = ChangeComment.objects.get(text="Last day")
    actions.answer_comment(cast.payroll_lead, last.pk, "Noted.")

    done = owner_api.post(publish, {"consultation_outcome": "Photos of receipts are accepted."})
    assert done.status_code == 200, done.json()
    body = lead_api.get(f"/api/changes/{change.pk}").json()
    assert body["consultation_outcome"] == "Photos of receipts are accepted."
    assert [(c["text"], c["answer"]) for c in body["comments"]] == [
        ("Can the receipt be a photo?", "Yes: a clear photo will do."), ("Last day", "Noted.")]
    # Once published, comments are closed.
    assert lead_api.post(url, {"text": "After"}).status_code == 409


def test_without_comments_publishing_needs_no_outcome(cast: Cast) -> None:
    change = draft(cast, "Quiet change", date(2027, 3, 15), ["leeds"])
    actions.open_consultation(cast.payroll_lead, change.pk, date(2027, 3, 10))
    response = ApiClient(cast.payroll_lead).post(f"/api/changes/{change.pk}/publish")
    assert response.status_code == 200 and response.json()["consultation_outcome"] == ""


def test_the_change_page_shows_the_consultation_and_keeps_what_was_typed(cast: Cast) -> None:
    leeds_lead = make_person("leeds_lead", cast.leeds, Role.LEAD)
    change = draft(cast, "New expense limits", date(2027, 3, 15), ["leeds"])
    actions.open_consultation(cast.payroll_lead, change.pk, date(2027, 3, 10))
    lead, owner = client_for(leeds_lead), client_for(cast.payroll_lead)
    page = f"/changes/{change.pk}/"

    long = "Please keep paper receipts too. " * 70
    refused = lead.post(page, {"form": "comment", "text": long})
    assert refused.status_code == 422
    html = refused.content.decode()
    assert f"{len(long.strip())} characters" in html and "Please keep paper receipts too." in html
    assert ChangeComment.objects.count() == 0
    assert client_for(cast.consultant).post(page, {"form": "comment", "text": "Me too"}).status_code == 403

    assert lead.post(page, {"form": "comment", "text": "Can the receipt be a photo?"}).status_code == 302
    comment = ChangeComment.objects.get()
    assert "Can the receipt be a photo?" in owner.get(page).content.decode()
    no = client_for(cast.payroll_agent).post(page, {"form": "answer", "comment": str(comment.pk), "answer": "No"})
    assert no.status_code == 403
    empty = owner.post(page, {"form": "answer", "comment": str(comment.pk), "answer": "  "})
    assert empty.status_code == 422
    outcome_missing = owner.post(page, {"form": "publish", "consultation_outcome": ""})
    assert outcome_missing.status_code == 422 and "not answered" in outcome_missing.content.decode()
    assert owner.post(page, {"form": "answer", "comment": str(comment.pk), "answer": "Yes, a photo."}).status_code == 302
    typed = owner.post(page, {"form": "publish", "consultation_outcome": "x" * 2100})
    assert typed.status_code == 422 and "x" * 2100 in typed.content.decode()
    assert owner.post(page, {"form": "publish", "consultation_outcome": "Photos accepted."}).status_code == 302
    html = lead.get(page).content.decode()
    assert "Yes, a photo." in html and "Photos accepted." in html
    assert Change.objects.get(pk=change.pk).status == Status.PUBLISHED


# --- the notice on the effective date -----------------------------------------------------------------


def test_each_person_gets_one_notice_a_day_listing_the_changes_taking_effect(cast: Cast) -> None:
    scripted = [  # title, effective, audiences, published?
        ("Timesheet deadline", date(2027, 3, 4), ["leeds", "york"], True),
        ("New payslip layout", date(2027, 3, 4), ["leeds"], True),
        ("Overtime approval", date(2027, 3, 5), ["york"], True),
        ("Still a draft", date(2027, 3, 4), ["leeds"], False),
        ("Holiday carry-over", date(2027, 3, 8), ["leeds"], True),
    ]
    made = {}
    for title, day, audiences, publish in scripted:
        made[title] = published(cast, title, day, audiences) if publish else draft(cast, title, day, audiences)
    withdrawn = published(cast, "Withdrawn", date(2027, 3, 5), ["leeds"])
    actions.cancel_change(cast.payroll_lead, withdrawn.pk)
    Notification.objects.all().delete()
    gone = make_person("gone", cast.leeds)
    gone.user.is_active = False
    gone.user.save()

    people = {unit: set(Person.objects.filter(unit__slug=unit, user__is_active=True).values_list("pk", flat=True))
              for unit in ("leeds", "york")}
    expected: dict[tuple[int, date], list[str]] = defaultdict(list)
    for title, day, audiences, publish in scripted:
        if publish:
            for unit in audiences:
                for person in people[unit]:
                    expected[(person, day)].append(title)

    told: dict[tuple[int, date], list[Notification]] = defaultdict(list)
    for offset in range(0, 8):
        day = TODAY + timedelta(days=offset)
        before = Notification.objects.count()
        notices.send_change_notices(day)
        notices.send_change_notices(day)  # a second worker round (or worker) on the same day tells no one again
        for n in Notification.objects.filter(kind=Notification.Kind.CHANGE_NOTICE).order_by("id")[before:]:
            told[(n.recipient_id, day)].append(n)
    assert set(told) == set(expected)
    for key, titles in expected.items():
        assert len(told[key]) == 1, key
        message = told[key][0].message
        assert all(title in message for title in titles), (message, titles)
        assert "Still a draft" not in message and "Withdrawn" not in message
    assert len(told[(cast.consultant.pk, date(2027, 3, 4))][0].message.split("“")) == 3  # two changes, one message
    receipts = set(ChangeReceipt.objects.values_list("change__title", "person_id"))
    assert receipts == {(t, p) for (p, _), ts in expected.items() for t in ts}
    assert not Notification.objects.filter(recipient=gone).exists()


def test_a_change_published_after_the_days_notice_reaches_people_the_next_day(cast: Cast) -> None:
    published(cast, "Morning change", TODAY, ["york"])
    assert notices.send_change_notices(TODAY) == 1  # other_consultant
    published(cast, "Afternoon change", TODAY, ["york"])
    assert notices.send_change_notices(TODAY) == 0
    assert notices.send_change_notices(TODAY + timedelta(days=1)) == 1
    messages = [n.message for n in notes(Notification.Kind.CHANGE_NOTICE)]
    assert len(messages) == 2 and "Morning change" in messages[0] and "Afternoon change" in messages[1]
    assert NoticeDay.objects.count() == 2


def test_a_worker_that_was_down_catches_up_within_a_week(cast: Cast) -> None:
    published(cast, "Monday change", date(2027, 3, 8), ["york"])
    published(cast, "Tuesday change", date(2027, 3, 9), ["york"])
    assert notices.send_change_notices(date(2027, 3, 10)) == 1
    (message,) = [n.message for n in notes(Notification.Kind.CHANGE_NOTICE)]
    assert "2 changes take effect" in message and "Monday change" in message and "Tuesday change" in message


# --- acknowledgement and reminders ---------------------------------------------------------------------


def test_people_acknowledge_with_one_click_and_the_owner_sees_it_per_unit_and_reminds(cast: Cast) -> None:
    change = published(cast, "Timesheet deadline", TODAY, ["leeds", "york"])
    other = draft(cast, "A draft", TODAY, ["leeds"])
    notices.send_change_notices(TODAY)
    url = f"/api/changes/{change.pk}"
    assert ApiClient(cast.consultant).post(f"{url}/acknowledge").status_code == 200
    assert ApiClient(cast.consultant).post(f"{url}/acknowledge").status_code == 200  # again: nothing more
    assert client_for(cast.other_consultant).post(f"/changes/{change.pk}/acknowledge/").status_code == 302
    assert ApiClient(cast.payroll_agent).post(f"{url}/acknowledge").status_code == 403  # not an audience
    assert ApiClient(cast.payroll_lead).post(f"/api/changes/{other.pk}/acknowledge").status_code == 409
    assert ChangeReceipt.objects.filter(acknowledged_at__isnull=False).count() == 2

    acked = set(ChangeReceipt.objects.filter(change=change, acknowledged_at__isnull=False).values_list(
        "person_id", flat=True))
    expected = []
    for slug in ("leeds", "york"):
        people = set(Person.objects.filter(unit__slug=slug, user__is_active=True).values_list("pk", flat=True))
        expected.append({"audience": slug, "role": "", "acknowledged": len(people & acked), "people": len(people),
                         "noticed": len(people)})
    owner = ApiClient(cast.payroll_lead)
    assert owner.get(f"{url}/acknowledgements").json() == expected
    assert ApiClient(cast.consultant).get(f"{url}/acknowledgements").status_code == 403
    page = client_for(cast.payroll_lead).get(f"/changes/{change.pk}/").content.decode()
    assert f"{expected[0]['acknowledged']} / {expected[0]['people']}" in page

    assert ApiClient(cast.payroll_agent).post(f"{url}/remind").status_code == 403
    before = Notification.objects.filter(kind=Notification.Kind.CHANGE_REMINDER).count()
    reminded = owner.post(f"{url}/remind")
    assert reminded.status_code == 200
    not_acked = {p for slug in ("leeds", "york") for p in Person.objects.filter(
        unit__slug=slug, user__is_active=True).values_list("pk", flat=True)} - acked
    assert reminded.json() == {"reminded": len(not_acked)}
    got = Notification.objects.filter(kind=Notification.Kind.CHANGE_REMINDER)
    assert got.count() - before == len(not_acked) and set(got.values_list("recipient_id", flat=True)) == not_acked
    again = owner.post(f"{url}/remind")
    assert again.status_code == 409 and "already reminded today" in again.json()["detail"]
    with time_machine.travel(NOW + timedelta(days=1), tick=False):
        assert owner.post(f"{url}/remind").status_code == 200
    future = published(cast, "Next week", TODAY + timedelta(days=7), ["leeds"])
    assert owner.post(f"/api/changes/{future.pk}/remind").status_code == 409  # not in effect yet


def test_the_calendar_lists_a_persons_changes_to_acknowledge(cast: Cast) -> None:
    change = published(cast, "Timesheet deadline", TODAY, ["leeds"])
    consultant = client_for(cast.consultant)
    assert "Timesheet deadline" in consultant.get("/changes/").content.decode()
    consultant.post(f"/changes/{change.pk}/acknowledge/", {"next": "calendar"})
    assert 'data-testid="for-you"' not in consultant.get("/changes/").content.decode()
    assert 'data-testid="for-you"' not in client_for(cast.other_consultant).get("/changes/").content.decode()


# --- moving or cancelling a published change ------------------------------------------------------------


def test_moving_or_cancelling_a_published_change_tells_its_audience_once(cast: Cast) -> None:
    change = published(cast, "Timesheet deadline", date(2027, 3, 15), ["leeds", "york"])
    quiet = draft(cast, "Still a draft", date(2027, 3, 15), ["leeds"])
    audience = set(Person.objects.filter(unit__slug__in=["leeds", "york"], user__is_active=True).values_list(
        "pk", flat=True))
    actions.move_change(cast.payroll_lead, quiet.pk, date(2027, 3, 22))
    actions.cancel_change(cast.payroll_lead, quiet.pk)
    assert not Notification.objects.filter(kind__in=KINDS).exists()

    refused = ApiClient(cast.payroll_lead).post(f"/api/changes/{change.pk}/move", {"effective_on": "2027-01-01"})
    assert refused.status_code == 422 and not Notification.objects.exists()
    actions.move_change(cast.payroll_lead, change.pk, date(2027, 3, 22))
    moved = notes(Notification.Kind.CHANGE_MOVED)
    assert sorted(n.recipient_id for n in moved) == sorted(audience)
    assert "now takes effect on Mon 22 Mar 2027" in moved[0].message
    actions.cancel_change(cast.payroll_lead, change.pk)
    cancelled = notes(Notification.Kind.CHANGE_MOVED)[len(moved):]
    assert sorted(n.recipient_id for n in cancelled) == sorted(audience)
    assert "Cancelled" in cancelled[0].message
    assert notices.send_change_notices(date(2027, 3, 22)) == 0  # a cancelled change is not noticed
