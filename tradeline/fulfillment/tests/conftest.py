import itertools

import pytest

_admins = itertools.count(1)


@pytest.fixture
def admin_user(db):
    """An ADMIN without a password hash (token auth only): keeps these tests fast."""
    from django.contrib.auth import get_user_model

    from tradeline.brokers.models import AdminProfile, AdminRole

    n = next(_admins)
    user = get_user_model().objects.create(username=f"fulfil-admin{n}@example.com",
                                           email=f"fulfil-admin{n}@example.com", is_staff=True)
    AdminProfile.objects.create(user=user, role=AdminRole.ADMIN)
    return user
