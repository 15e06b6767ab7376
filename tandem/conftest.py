import pytest

from tandem.work.models import ServiceRequest
from tests.cast import Cast, build_cast
from tests.history import steady_history


@pytest.fixture(autouse=True)
def _fast_password_hashing(settings) -> None:
    # The cast signs in with real passwords; PBKDF2 would spend seconds per test on them.
    settings.PASSWORD_HASHERS = ["django.contrib.auth.hashers.MD5PasswordHasher"]


@pytest.fixture
def cast(db) -> Cast:
    return build_cast()


@pytest.fixture
def history(cast: Cast) -> list[ServiceRequest]:
    """The four-week plan's scripted history (tests/history.py)."""
    return steady_history(cast)
