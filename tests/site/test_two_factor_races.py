"""
The same code, or the same recovery code, sent by several sign-ins at the
same moment lets exactly one in: the device's row is locked while a code is
checked (the app's last step, a recovery code's row deleted). Real
concurrent transactions: PostgreSQL.
"""

import pytest
from django.contrib.auth.models import Group
from django.test import Client

from staff_access import services
from tests.support.booking import all_at_once
from tests.support.two_factor import (
    authenticator_for,
    code,
    password_sign_in,
    wait_for_a_fresh_step,
)

pytestmark = pytest.mark.postgres

SIGN_INS = 4
CODE_PAGE = "/admin/two-factor/code/"


@pytest.fixture
def lead(transactional_db, django_user_model):
    user = django_user_model.objects.create_user("lead", password="right-password", is_staff=True)
    user.groups.add(Group.objects.get(name="Clinical leads"))
    authenticator_for(user)
    return user


def racing_sign_ins():
    clients = [Client() for _ in range(SIGN_INS)]
    for client in clients:
        assert password_sign_in(client, "lead", "right-password").redirect_chain[-1][0] == CODE_PAGE
    return clients


def statuses(clients, typed):
    results = all_at_once(
        lambda n: clients[n].post(CODE_PAGE, {"code": typed}, REMOTE_ADDR="203.0.113.9"),
        SIGN_INS,
    )
    assert [result for result in results if isinstance(result, Exception)] == []
    return sorted(response.status_code for response in results)


def test_one_code_sent_by_several_sign_ins_at_once_lets_one_in(lead):
    clients = racing_sign_ins()
    wait_for_a_fresh_step()

    assert statuses(clients, code(authenticator_for(lead))) == [200] * (SIGN_INS - 1) + [302]


def test_one_recovery_code_sent_by_several_sign_ins_at_once_lets_one_in(lead):
    recovery = services.issue_recovery_codes(user=lead)
    clients = racing_sign_ins()

    assert statuses(clients, recovery[0]) == [200] * (SIGN_INS - 1) + [302]
