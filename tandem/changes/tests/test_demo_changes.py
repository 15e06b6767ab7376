"""The demo's change calendar carries consultation comments and acknowledgements consistent with
the rules: a published change with comments says what changed because of them, and the
changes already in effect have told their audiences (so the worker's first round does not tell
everyone again)."""

from __future__ import annotations

import io

import pytest
from django.core.management import call_command

from tandem.changes.models import Change, ChangeComment, ChangeReceipt, Status
from tandem.changes.queries import acknowledgements

END = "2026-11-25T11:00:00Z"

pytestmark = pytest.mark.django_db(transaction=True)


def test_the_demo_has_comments_answers_and_acknowledgements() -> None:
    call_command("demo", "--no-serve", "--weeks", "1", "--end", END, "--seed", "3", stdout=io.StringIO())
    assert ChangeComment.objects.exists()
    for comment in ChangeComment.objects.select_related("change", "author"):
        assert comment.author.role == "lead"
        assert comment.change.audiences.filter(unit_id=comment.unit_id).exists()
        ends = comment.change.consultation_ends_on
        assert ends is not None and comment.created_at.date() <= ends
        if comment.change.status == Status.PUBLISHED:
            assert comment.answered_at is not None and comment.change.consultation_outcome
    in_effect = Change.objects.filter(status=Status.PUBLISHED, effective_on__lt="2026-11-25")
    assert in_effect.exists()
    for change in in_effect:
        rows = acknowledgements(change)
        assert all(r.noticed == r.people and 0 <= r.acknowledged <= r.people for r in rows)
    assert ChangeReceipt.objects.filter(acknowledged_at__isnull=True).exists()
