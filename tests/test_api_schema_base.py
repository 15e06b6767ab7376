"""The API schemas' base validates a view's answer once: what the view built passes as it is,
a dict is validated directly, an ORM object still goes through django-ninja's getter, and the
refusals of input schemas are unchanged."""

from __future__ import annotations

import pytest
from pydantic import ValidationError

from tandem.org.api_shared import InSchema, Schema, UnitRef
from tandem.org.models import Unit


class Page(Schema):
    items: list[UnitRef]
    next_after: int | None


class Body(InSchema):
    name: str


def test_a_built_answer_is_not_validated_again() -> None:
    ref = UnitRef(id=1, slug="payroll", name="Payroll")
    page = Page.model_validate({"items": [ref], "next_after": None})
    assert page.items[0] is ref
    assert Page.model_validate(page) is page
    assert page.model_dump() == {"items": [{"id": 1, "slug": "payroll", "name": "Payroll"}], "next_after": None}


def test_dicts_and_orm_objects_are_still_validated() -> None:
    with pytest.raises(ValidationError, match="slug"):
        Page.model_validate({"items": [{"id": 1, "name": "Payroll"}], "next_after": None})
    unit = Unit(id=7, slug="hr", name="HR")  # not saved: attributes are all the getter reads
    assert UnitRef.model_validate(unit).model_dump() == {"id": 7, "slug": "hr", "name": "HR"}


def test_input_schemas_still_refuse_unknown_fields() -> None:
    assert Body.model_validate({"name": "x"}).name == "x"
    with pytest.raises(ValidationError, match="extra"):
        Body.model_validate({"name": "x", "nmae": "typo"})
