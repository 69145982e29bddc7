import pytest


@pytest.fixture
def media(settings, tmp_path):
    """An empty media folder of the test's own, so files can be counted."""
    settings.MEDIA_ROOT = tmp_path
    return tmp_path
