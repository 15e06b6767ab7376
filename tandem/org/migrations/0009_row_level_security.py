"""PostgreSQL's row-level security on every table holding a client's data (docs/isolation.md).

Each table gets one policy, for every command, keyed on the setting ``tandem.organisation``
(tandem/isolation.py sets it in every transaction):

- ``provider``: every row;
- a client organisation's id: its own rows and the provider's shared ones;
- anything else (unset, empty, an unknown id): no row at all (fail closed).

The roots decide: a unit is the client's own or the provider's; a request and a case are a
client's when their (requesting) unit is one of the client's units, so the provider's own
requests are never a client's; a person follows their unit. Every other table names the
parents it hangs off, ``parent_id IN (SELECT id FROM parent)``, which reads the parent through
the parent's own policy. Tables that only ever hold the provider's own business (pay, webhook
deliveries, forecasts and process figures summed across clients) are the provider's alone.

``FORCE``: the table's owner is held to the policies too (only superusers and roles with
BYPASSRLS pass them by). The web server and the worker should connect as a role that owns
nothing (``tandem db-roles``), so that they cannot switch the policies off either.

A check (tandem/org/tests/test_row_level_security.py) fails when a table reached from a
request, a case, a person or a unit has no policy here: a new table needs its own migration
adding one (``policy_sql``).

On SQLite this migration does nothing: there is no row-level security, and the scoping in the
query entries holds alone.
"""

import re

from django.db import migrations

FUNCTIONS = """
CREATE OR REPLACE FUNCTION tandem_is_provider() RETURNS boolean
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT coalesce(current_setting('tandem.organisation', true), '') = 'provider' $$;
CREATE OR REPLACE FUNCTION tandem_client() RETURNS bigint
    LANGUAGE sql STABLE PARALLEL SAFE
    AS $$ SELECT CASE WHEN current_setting('tandem.organisation', true) ~ '^[0-9]{1,18}$'
                      THEN current_setting('tandem.organisation', true)::bigint END $$;
"""

# An array computed once per statement: the request's index on requesting_unit_id serves it.
CLIENT_UNITS = "ANY (ARRAY(SELECT id FROM org_unit WHERE organisation_id = tandem_client()))"

# table -> the client's condition (the provider sees every row of every table).
POLICIES: dict[str, str] = {
    # The roots.
    "org_organisation": "id = tandem_client()",
    "org_unit": "organisation_id = tandem_client() OR (organisation_id IS NULL AND tandem_client() IS NOT NULL)",
    "org_person": "unit_id IN (SELECT id FROM org_unit)",
    "work_servicerequest": f"requesting_unit_id = {CLIENT_UNITS}",
    "work_case": f"unit_id = {CLIENT_UNITS}",
    # People's own rows.
    "org_personskill": "person_id IN (SELECT id FROM org_person)",
    "org_absence": "person_id IN (SELECT id FROM org_person)",
    "allocation_loan": "person_id IN (SELECT id FROM org_person) AND unit_id IN (SELECT id FROM org_unit)",
    "org_identityprovider": "organisation_id = tandem_client()",
    "org_signinidentity": "person_id IN (SELECT id FROM org_person)",
    # The catalogue: the provider's teams' services are shared; a client's units' are its own.
    "catalogue_service": "unit_id IN (SELECT id FROM org_unit)",
    "catalogue_intakefield": "service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_cutoff": (
        "service_id IN (SELECT id FROM catalogue_service)"
        " AND (organisation_id IS NULL OR organisation_id = tandem_client())"
    ),
    # A client's contracts are its own.
    "catalogue_contract": "organisation_id = tandem_client() AND service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_serviceskill": "service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_procedurestep": "service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_serviceevent": "service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_servicereview": "service_id IN (SELECT id FROM catalogue_service)",
    "catalogue_reviewaction": "review_id IN (SELECT id FROM catalogue_servicereview)",
    # Agreements: a blank requesting unit or calendar owner is shared.
    "agreements_calendar": (
        "(unit_id IS NULL OR unit_id IN (SELECT id FROM org_unit))"
        " AND (service_id IS NULL OR service_id IN (SELECT id FROM catalogue_service))"
    ),
    "agreements_agreement": (
        "service_id IN (SELECT id FROM catalogue_service)"
        " AND (requesting_unit_id IS NULL OR requesting_unit_id IN (SELECT id FROM org_unit))"
        " AND (requesting_organisation_id IS NULL OR requesting_organisation_id = tandem_client())"
    ),
    "agreements_customeragreement": "unit_id IN (SELECT id FROM org_unit)",
    "agreements_customeragreement_services": "customeragreement_id IN (SELECT id FROM agreements_customeragreement)",
    # Everything hanging off a request follows it.
    "work_event": "request_id IN (SELECT id FROM work_servicerequest)",
    "work_comment": "request_id IN (SELECT id FROM work_servicerequest)",
    "work_timeentry": "request_id IN (SELECT id FROM work_servicerequest)",
    "work_attachment": "request_id IN (SELECT id FROM work_servicerequest)",
    "work_savedview": "unit_id IN (SELECT id FROM org_unit)",
    "promises_promise": "request_id IN (SELECT id FROM work_servicerequest)",
    "search_searchdocument": "request_id IN (SELECT id FROM work_servicerequest)",
    "mail_inboundmail": "request_id IN (SELECT id FROM work_servicerequest)",
    "notifications_notification": (
        "recipient_id IN (SELECT id FROM org_person)"
        " AND (request_id IS NULL OR request_id IN (SELECT id FROM work_servicerequest))"
    ),
    "voice_requestrating": "request_id IN (SELECT id FROM work_servicerequest)",
    "voice_askrating": "request_id IN (SELECT id FROM work_servicerequest)",
    "allocation_plan": "unit_id IN (SELECT id FROM org_unit)",
    "allocation_planline": (
        "plan_id IN (SELECT id FROM allocation_plan) AND request_id IN (SELECT id FROM work_servicerequest)"
    ),
    # Evidence summed per requesting unit follows that unit, as requests do.
    "insights_weeklyflow": f"requesting_unit_id = {CLIENT_UNITS}",
    "insights_weeklyteamwait": f"requesting_unit_id = {CLIENT_UNITS}",
    "insights_weeklyconformance": f"requesting_unit_id = {CLIENT_UNITS}",
    # Demand a client's unit declares, and what a team asks of it.
    "demand_declareddemand": "unit_id IN (SELECT id FROM org_unit) AND service_id IN (SELECT id FROM catalogue_service)",
    "demand_demandask": "unit_id IN (SELECT id FROM org_unit)",
    # The change calendar: the provider's changes are shared; audiences, limits, comments and
    # receipts are each audience's.
    "changes_change": "unit_id IN (SELECT id FROM org_unit)",
    "changes_change_services": "change_id IN (SELECT id FROM changes_change)",
    "changes_changeaudience": "change_id IN (SELECT id FROM changes_change) AND unit_id IN (SELECT id FROM org_unit)",
    "changes_audiencelimit": "unit_id IN (SELECT id FROM org_unit)",
    "changes_blackout": "unit_id IS NULL OR unit_id IN (SELECT id FROM org_unit)",
    "changes_changeperiod": "declared_by_id IS NULL OR declared_by_id IN (SELECT id FROM org_person)",
    "changes_changecomment": "change_id IN (SELECT id FROM changes_change) AND unit_id IN (SELECT id FROM org_unit)",
    "changes_changereceipt": "person_id IN (SELECT id FROM org_person)",
    "changes_noticeday": "person_id IN (SELECT id FROM org_person)",
    "changes_serviceedit": "change_id IN (SELECT id FROM changes_change)",
    # The pulse and kudos: each person's own; the provider's teams' summaries are shared.
    "voice_pulseanswer": "person_id IN (SELECT id FROM org_person) AND unit_id IN (SELECT id FROM org_unit)",
    "voice_pulsedismissal": "person_id IN (SELECT id FROM org_person)",
    "voice_pulseinvitation": "person_id IN (SELECT id FROM org_person)",
    "voice_pulsemonth": "unit_id IN (SELECT id FROM org_unit)",
    "voice_pulseasker": "unit_id IN (SELECT id FROM org_unit) AND requester_id IN (SELECT id FROM org_person)",
    "voice_kudos": (
        "given_by_id IN (SELECT id FROM org_person) AND to_unit_id IN (SELECT id FROM org_unit)"
        " AND (request_id IS NULL OR request_id IN (SELECT id FROM work_servicerequest))"
    ),
    "voice_gift": "received_by_id IN (SELECT id FROM org_person)",
    "voice_servicereport": "organisation_id = tandem_client()",
    "voice_gift_shared_with": "gift_id IN (SELECT id FROM voice_gift) AND unit_id IN (SELECT id FROM org_unit)",
    # The provider's own business: its staff's pay, its webhook deliveries, forecasts and
    # process figures summed across every client.
    "pay_hrrole": "false",
    "pay_paysnapshot": "false",
    "pay_payrow": "false",
    "pay_gradeexplanation": "false",
    "pay_payaudit": "false",
    "notifications_delivery": "false",
    "notifications_deliveryattempt": "false",
    "insights_weeklyprocess": "false",
    "insights_weeklyvariant": "false",
    "demand_arrivalforecast": "false",
    "demand_weekforecast": "false",
    "demand_planinputs": "false",
}

POLICY = "tandem_organisation"
PARENT = re.compile(r"\b(\w+) IN \(SELECT id FROM (\w+)\)")


def policy_sql(table: str, condition: str) -> str:
    """Row-level security on ``table``: the provider sees all, a client what ``condition`` lets
    through (``tandem_client()`` is its id; NULL without one).

    Made fast two ways, measured by bench/row_security.py:
    - the context functions are wrapped in scalar subqueries, ``(SELECT tandem_client())``:
      PostgreSQL then computes each once per statement (an InitPlan) instead of once per row;
    - ``col IN (SELECT id FROM parent)`` becomes ``EXISTS (SELECT 1 FROM parent WHERE
      parent.id = table.col)``: one primary-key look-up per row read (through the parent's
      own policy), instead of hashing every row of the parent the client may see.
    """
    condition = PARENT.sub(lambda m: f'EXISTS (SELECT 1 FROM {m[2]} WHERE {m[2]}.id = "{table}".{m[1]})', condition)
    condition = condition.replace("tandem_client()", "(SELECT tandem_client())")
    using = f"(SELECT tandem_is_provider()) OR ((SELECT tandem_client()) IS NOT NULL AND ({condition}))"
    return (
        f'ALTER TABLE "{table}" ENABLE ROW LEVEL SECURITY;\n'
        f'ALTER TABLE "{table}" FORCE ROW LEVEL SECURITY;\n'
        f'DROP POLICY IF EXISTS {POLICY} ON "{table}";\n'
        f'CREATE POLICY {POLICY} ON "{table}" FOR ALL USING ({using}) WITH CHECK ({using});\n'
    )


def forwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        cursor.execute(FUNCTIONS)
        for table, condition in POLICIES.items():
            cursor.execute(policy_sql(table, condition))


def backwards(apps, schema_editor):  # type: ignore[no-untyped-def]
    if schema_editor.connection.vendor != "postgresql":
        return
    with schema_editor.connection.cursor() as cursor:
        for table in POLICIES:
            cursor.execute(
                f'DROP POLICY IF EXISTS {POLICY} ON "{table}";'
                f'ALTER TABLE "{table}" NO FORCE ROW LEVEL SECURITY;'
                f'ALTER TABLE "{table}" DISABLE ROW LEVEL SECURITY;'
            )
        cursor.execute("DROP FUNCTION IF EXISTS tandem_is_provider(); DROP FUNCTION IF EXISTS tandem_client();")


class Migration(migrations.Migration):
    dependencies = [
        ("org", "0008_client_contracts"),
        ("catalogue", "0008_client_contracts"),
        ("pay", "0001_initial"),
        ("agreements", "0004_client_contracts"),
        ("work", "0016_every_event_kind"),
        ("notifications", "0011_every_kind"),
        ("insights", "0007_waiting_approval"),
        ("promises", "0001_initial"),
        ("demand", "0003_plan_inputs"),
        ("changes", "0004_audience_roles"),
        ("mail", "0001_initial"),
        ("search", "0002_access_keys"),
        ("allocation", "0002_loan_moved_to_org"),
        ("voice", "0005_service_report"),
    ]

    operations = [migrations.RunPython(forwards, backwards, elidable=False)]
