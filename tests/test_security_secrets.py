"""Committee contact secrets (issue 16, item 2): robot tokens, signing secrets and phone numbers
never leave the server except masked to the county administrator; `env:NAME` references stay."""

from __future__ import annotations

import json

import pytest
from sqlalchemy import select

from schedules.delivery import recipients
from tests.service_fixtures import COUNTY, XINSHI, make_world
from workflow.store.models import Jurisdiction

TOKEN = "d1e2f3a4b5c6d7e8f9a0b1c2d3e4f5a6b7c8d9e0f1a2b3c4d5e6f7a8b9c0d1e2"
SIGN = "SEC0123456789abcdef0123456789abcdef0123456789abcdef0123456789ab"
WECOM = "693a91f6-7xxx-4bc4-97a0-0ec2sifa5aaa"
PHONE = "13912345678"
CONTACTS = [
    {
        "name": "新市镇选举委员会办公室",
        "role": "office",
        "email": "xjw@example.gov.cn",
        "phone": PHONE,
        "channels": {
            "dingtalk": {
                "webhook": f"https://oapi.dingtalk.com/robot/send?access_token={TOKEN}",
                "secret": SIGN,
            },
            "wecom": {"key": WECOM},
            "webhook": {"url": f"https://hooks.example.gov.cn/in/{TOKEN}", "secret": "env:HJ_HOOK_SECRET"},
        },
    }
]
SECRETS = (TOKEN, SIGN, WECOM, PHONE, TOKEN[:16], SIGN[-12:])


@pytest.fixture
def world(db, clock):
    world = make_world(db, clock)
    with db.transaction() as session:
        for code in (COUNTY, XINSHI):
            place = session.execute(select(Jurisdiction).where(Jurisdiction.code == code)).scalar_one()
            place.contacts = CONTACTS
    return world


@pytest.mark.parametrize("user", ["observer", "registrar", "xinshi"])
def test_other_roles_see_who_the_contacts_are_and_nothing_else(world, user):
    shown = world.get(user, f"/api/v1/jurisdictions/{XINSHI}")
    assert shown.status_code == 200
    assert shown.json()["contacts"] == [{"name": "新市镇选举委员会办公室", "role": "office"}]
    assert not any(secret in shown.text for secret in SECRETS) and "example.gov.cn" not in shown.text


def test_the_county_admin_sees_them_masked_with_env_references(world, db):
    for code in (COUNTY, XINSHI):
        shown = world.get("admin", f"/api/v1/jurisdictions/{code}")
        assert shown.status_code == 200
        text = shown.text
        assert not any(secret in text for secret in SECRETS), text
        (contact,) = shown.json()["contacts"]
        assert contact["phone"] == "139****5678" and contact["email"] == "xjw@example.gov.cn"
        channels = contact["channels"]
        assert channels["dingtalk"] == {"webhook": "https://oapi.dingtalk.com/***", "secret": "***89ab"}
        assert channels["wecom"] == {"key": "***5aaa"}
        assert channels["webhook"] == {
            "url": "https://hooks.example.gov.cn/***",
            "secret": "env:HJ_HOOK_SECRET",
        }
    # The stored contacts are untouched: delivery still reads the whole secrets.
    with db.reading() as session:
        place = session.execute(select(Jurisdiction).where(Jurisdiction.code == XINSHI)).scalar_one()
        sent = json.dumps(recipients(place), ensure_ascii=False)
    assert TOKEN in sent and SIGN in sent and "env:HJ_HOOK_SECRET" in sent
