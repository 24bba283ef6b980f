from tests.registrations.conftest import checkpoint  # noqa: F401 - shared fixture
