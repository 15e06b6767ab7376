"""Django admin for the organisation: units, skills, people (with skills and absences), loans, tokens.

The admin is the administrators' escape hatch; the management pages (``/manage/``) are the
everyday way to change these, through the actions and their rules.
"""

from __future__ import annotations

from typing import Any

from django import forms
from django.contrib import admin, messages
from django.db.models import QuerySet
from django.http import HttpRequest

from tandem.org.actions import revoke_api_tokens
from tandem.org.models import (
    Absence,
    ApiToken,
    IdentityProvider,
    Loan,
    LoginFailure,
    Organisation,
    Person,
    PersonSkill,
    SignInIdentity,
    Skill,
    Unit,
)
from tandem.org.sso import discover
from tandem.refusal import Refused


@admin.register(Organisation)
class OrganisationAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "local_passwords", "holiday_country", "holiday_subdivision")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class IdentityProviderForm(forms.ModelForm):
    """Saving reads the issuer's discovery document: the endpoints are the provider's own word."""

    issuer = forms.URLField(max_length=300, assume_scheme="https",
                            help_text="The issuer, exactly as its tokens name it.")

    class Meta:
        model = IdentityProvider
        fields = ("organisation", "issuer", "client_id", "client_secret", "email_domains", "new_accounts_unit",
                  "enabled")
        widgets = {"client_secret": forms.PasswordInput(render_value=True)}

    def clean(self) -> dict[str, Any]:
        data = super().clean() or {}
        unit, organisation = data.get("new_accounts_unit"), data.get("organisation")
        if unit is not None and organisation is not None and unit.organisation_id != organisation.pk:
            self.add_error("new_accounts_unit", f"{unit} is not a unit of {organisation}.")
        if data.get("issuer") and not self.errors:
            try:
                for key, value in discover(data["issuer"]).items():
                    setattr(self.instance, key, value)
            except Refused as refusal:
                self.add_error("issuer", refusal.message)
        return data


@admin.register(IdentityProvider)
class IdentityProviderAdmin(admin.ModelAdmin):
    form = IdentityProviderForm
    list_display = ("organisation", "issuer", "email_domains", "enabled")
    readonly_fields = ("authorization_endpoint", "token_endpoint", "userinfo_endpoint", "jwks_uri")


@admin.register(SignInIdentity)
class SignInIdentityAdmin(admin.ModelAdmin):
    list_display = ("person", "provider", "first_at", "last_at")
    search_fields = ("person__user__username", "person__user__email", "subject")
    readonly_fields = ("provider", "subject", "person", "first_at", "last_at")


@admin.register(Unit)
class UnitAdmin(admin.ModelAdmin):
    list_display = ("name", "slug", "side", "organisation", "time_zone", "customer_head_start_hours",
                    "queue_jump_reason_required")
    list_filter = ("side", "organisation")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


@admin.register(Skill)
class SkillAdmin(admin.ModelAdmin):
    list_display = ("name", "slug")
    search_fields = ("name", "slug")
    prepopulated_fields = {"slug": ("name",)}


class PersonSkillInline(admin.TabularInline):
    model = PersonSkill
    extra = 0
    autocomplete_fields = ("skill",)


class AbsenceInline(admin.TabularInline):
    model = Absence
    extra = 0
    fields = ("kind", "starts_on", "ends_on", "note")


@admin.register(Person)
class PersonAdmin(admin.ModelAdmin):
    list_display = (
        "name",
        "username",
        "unit",
        "role",
        "job_title",
        "email_notifications",
        "active",
    )
    list_filter = ("role", "unit__side", "unit", "email_notifications", "user__is_active")
    search_fields = (
        "user__username",
        "user__first_name",
        "user__last_name",
        "user__email",
        "job_title",
    )
    list_select_related = ("user", "unit")
    raw_id_fields = ("user",)
    fields = (
        "user",
        "unit",
        "role",
        "job_title",
        "time_zone",
        "working_pattern",
        "weekly_hours",
        "request_share",
        "email_notifications",
        "last_digest_at",
    )
    readonly_fields = ("weekly_hours", "last_digest_at")
    inlines = (PersonSkillInline, AbsenceInline)

    @admin.display(description="name", ordering="user__first_name")
    def name(self, obj: Person) -> str:
        return obj.display_name

    @admin.display(description="username", ordering="user__username")
    def username(self, obj: Person) -> str:
        return obj.user.get_username()

    @admin.display(description="active", boolean=True, ordering="user__is_active")
    def active(self, obj: Person) -> bool:
        return obj.user.is_active

    @admin.display(description="weekly hours")
    def weekly_hours(self, obj: Person) -> str:
        return f"{obj.weekly_hours():g} h"


@admin.register(Absence)
class AbsenceAdmin(admin.ModelAdmin):
    """Everyone's absences in one list: who is away, when."""

    list_display = ("person", "kind", "starts_on", "ends_on", "note")
    list_filter = ("kind", "person__unit")
    search_fields = (
        "person__user__username", "person__user__first_name", "person__user__last_name",
    )
    list_select_related = ("person__user",)
    raw_id_fields = ("person",)
    date_hierarchy = "starts_on"


@admin.register(ApiToken)
class ApiTokenAdmin(admin.ModelAdmin):
    """Read-only except revoking. The hash is never shown: it is only good for matching tokens."""

    list_display = (
        "name",
        "user",
        "prefix",
        "created_at",
        "expires_at",
        "last_used_at",
        "revoked_at",
    )
    list_filter = (
        ("revoked_at", admin.EmptyFieldListFilter),
        ("expires_at", admin.EmptyFieldListFilter),
    )
    search_fields = ("name", "prefix", "user__username")
    list_select_related = ("user",)
    fields = ("user", "name", "prefix", "created_at", "expires_at", "last_used_at", "revoked_at")
    readonly_fields = fields
    actions = ("revoke",)

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False  # a token's raw value is shown once, by `tandem createtoken` or the API

    def has_delete_permission(self, request: HttpRequest, obj: ApiToken | None = None) -> bool:
        return False  # revoke instead: the record says who had access and until when

    @admin.action(description="Revoke the selected tokens", permissions=["change"])
    def revoke(self, request: HttpRequest, queryset: QuerySet[ApiToken]) -> None:
        count = revoke_api_tokens(request.user, queryset.values_list("pk", flat=True))
        self.message_user(
            request, f"Revoked {count} token{'s' if count != 1 else ''}.", messages.SUCCESS
        )


@admin.register(LoginFailure)
class LoginFailureAdmin(admin.ModelAdmin):
    """Failed sign-ins of the current window. Deleting an account's rows unlocks it at once
    (as `tandem unlock USERNAME` does); the password is never recorded."""

    list_display = ("username", "ip", "at")
    search_fields = ("username", "ip")
    date_hierarchy = "at"
    readonly_fields = ("username", "ip", "at")

    def has_add_permission(self, request: HttpRequest) -> bool:
        return False

    def has_change_permission(self, request: HttpRequest, obj: LoginFailure | None = None) -> bool:
        return False


@admin.register(Loan)
class LoanAdmin(admin.ModelAdmin):
    list_display = ("id", "person", "unit", "starts_at", "ends_at", "agreed_by_lender", "ended_at")
    list_filter = ("unit",)
    raw_id_fields = ("person", "agreed_by_lender", "agreed_by_borrower", "created_by", "ended_by")
