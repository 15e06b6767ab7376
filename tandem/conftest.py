import pytest

from tests.cast import Cast, build_cast


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The cast signs in with real passwords; PBKDF2 would spend seconds per test on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()
