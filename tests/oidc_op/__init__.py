"""A small OpenID Connect provider (django-oauth-toolkit) that the tests start as a real server,
so that single sign-on is tested against a real provider over HTTP, never a mock."""

PASSWORD = "provider-password"  # every account of the test provider
