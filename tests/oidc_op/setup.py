"""Create the provider's users and Tandem's client: python -m tests.oidc_op.setup REDIRECT_URI...;
with --allow REDIRECT_URI, add one more redirect address to the client."""

import sys

import django

django.setup()

from django.contrib.auth.models import User  # noqa: E402
from oauth2_provider.models import Application  # noqa: E402

from tests.oidc_op import PASSWORD  # noqa: E402

USERS = (  # username, email, first name, last name
    ("ana", "ana.client@client-a.test", "Ana", "Client"),
    ("newcomer", "newcomer@client-a.test", "Nia", "Newcomer"),
    ("outsider", "bob.other@client-b.test", "Bob", "Other"),
    ("unverified", "ana.client@client-a.test", "Ana", "Unverified"),
)

if sys.argv[1:2] == ["--allow"]:
    app = Application.objects.get(client_id="tandem")
    app.redirect_uris = f"{app.redirect_uris} {sys.argv[2]}"
    app.save()
    sys.exit(0)

for username, email, first, last in USERS:
    User.objects.create_user(username, email, PASSWORD, first_name=first, last_name=last)
Application.objects.create(
    name="Tandem", client_id="tandem", client_secret="tandem-secret", client_type=Application.CLIENT_CONFIDENTIAL,
    authorization_grant_type=Application.GRANT_AUTHORIZATION_CODE, redirect_uris=" ".join(sys.argv[1:]),
    algorithm=Application.RS256_ALGORITHM, skip_authorization=True,
)
