"""Each delivery channel against a local receiver that checks its format and signature."""

from __future__ import annotations

import logging
from datetime import UTC, datetime, timedelta

import pytest
from hypothesis import given
from hypothesis import strategies as st

from config.settings import Settings
from schedules import channels
from schedules.channels import (
    Message,
    PermanentError,
    TransientError,
    masked_recipient,
    message_id,
    send_dingtalk,
    send_email,
    send_log,
    send_webhook,
    send_wecom,
    verify_webhook_signature,
    webhook_signature,
)
from tests.delivery_servers import MailServer, RobotServer, free_port

NOW = datetime(2026, 9, 10, 1, 0, tzinfo=UTC)
SETTINGS = Settings(delivery_http_timeout_seconds=5)


def message(channel: str, recipient: dict, key: str = "reminder:7|x|abc", **extra) -> Message:
    return Message(
        key=key,
        channel=channel,
        recipient=recipient,
        category="warning",
        subject="距选民登记截止还有 3 天",
        body="京山县第十七届人民代表大会代表选举：选民登记应于 2026-09-13 前完成（选举法第二十八条）。",
        payload={"milestone": "voter_registration"},
        election_id=7,
        jurisdiction_id=3,
        created_at=NOW,
        **extra,
    )


@pytest.fixture
def robot(request):
    servers = []

    def make(kind: str, **kwargs) -> RobotServer:
        server = RobotServer(kind, now=lambda: NOW, **kwargs)
        servers.append(server)
        return server

    yield make
    for server in servers:
        server.close()


@pytest.fixture
def mail():
    server = MailServer()
    yield server
    server.close()


# -- DingTalk -----------------------------------------------------------------------------------
def test_dingtalk_markdown_signed(robot) -> None:
    server = robot("dingtalk")
    send_dingtalk(message("dingtalk", {"webhook": server.url, "secret": server.secret}), SETTINGS, NOW)
    (got,) = server.accepted
    assert got.document["msgtype"] == "markdown"
    assert got.document["markdown"]["title"] == "距选民登记截止还有 3 天"
    assert "选举法第二十八条" in got.document["markdown"]["text"]
    assert got.query["timestamp"] == str(int(NOW.timestamp() * 1000))
    assert server.keys == {"reminder:7|x|abc": 1}
    assert server.rejected == []


def test_dingtalk_text_with_secret_from_environment(robot, monkeypatch) -> None:
    server = robot("dingtalk")
    monkeypatch.setenv("HJ_DING_SECRET", server.secret)
    monkeypatch.setenv("HJ_DING_URL", server.url)
    recipient = {"webhook": "env:HJ_DING_URL", "secret": "env:HJ_DING_SECRET", "msgtype": "text",
                 "at_mobiles": ["13800001111"]}
    send_dingtalk(message("dingtalk", recipient), SETTINGS, NOW)
    (got,) = server.accepted
    assert got.document["text"]["content"].startswith("距选民登记截止还有 3 天\n")
    assert got.document["at"] == {"atMobiles": ["13800001111"], "isAtAll": False}


def test_dingtalk_wrong_secret_is_refused_and_reported(robot) -> None:
    server = robot("dingtalk")
    with pytest.raises(TransientError, match="310000"):
        send_dingtalk(message("dingtalk", {"webhook": server.url, "secret": "SECwrong"}), SETTINGS, NOW)
    assert server.accepted == [] and server.rejected == ["sign not match"]


def test_dingtalk_stale_timestamp_is_refused(robot) -> None:
    server = robot("dingtalk")
    with pytest.raises(TransientError):
        send_dingtalk(
            message("dingtalk", {"webhook": server.url, "secret": server.secret}),
            SETTINGS,
            NOW - timedelta(hours=2),
        )
    assert server.rejected == ["sign timestamp too far off"]


def test_missing_environment_secret_is_permanent(robot, monkeypatch) -> None:
    server = robot("dingtalk")
    monkeypatch.delenv("HJ_NOT_SET", raising=False)
    with pytest.raises(PermanentError, match="HJ_NOT_SET"):
        send_dingtalk(message("dingtalk", {"webhook": server.url, "secret": "env:HJ_NOT_SET"}), SETTINGS, NOW)
    assert server.accepted == []


# -- WeCom -------------------------------------------------------------------------------------
def test_wecom_markdown(robot) -> None:
    server = robot("wecom")
    send_wecom(message("wecom", {"webhook": server.url}), SETTINGS, NOW)
    (got,) = server.accepted
    assert got.document == {
        "msgtype": "markdown",
        "markdown": {"content": "### 距选民登记截止还有 3 天\n" + message("wecom", {}).body},
    }
    assert server.keys == {"reminder:7|x|abc": 1}


def test_wecom_by_key_and_long_content_is_cut_to_the_limit(robot, monkeypatch) -> None:
    server = robot("wecom")
    monkeypatch.setattr(channels, "WECOM_URL", server.base + "/cgi-bin/webhook/send?key={key}")
    long = message("wecom", {"key": server.key})
    long = Message(**{**long.__dict__, "body": "选" * 3000})  # 9,000 bytes of UTF-8
    send_wecom(long, SETTINGS, NOW)
    content = server.accepted[0].document["markdown"]["content"]
    assert len(content.encode()) <= 4096
    assert content.endswith("（内容过长，已截断）")


def test_wecom_text(robot) -> None:
    server = robot("wecom")
    send_wecom(message("wecom", {"webhook": server.url, "msgtype": "text"}), SETTINGS, NOW)
    assert server.accepted[0].document["msgtype"] == "text"


def test_wecom_wrong_key_is_reported(robot) -> None:
    server = robot("wecom")
    with pytest.raises(TransientError, match="40035"):
        send_wecom(message("wecom", {"webhook": server.base + "/cgi-bin/webhook/send?key=nope"}), SETTINGS, NOW)


# -- generic webhook --------------------------------------------------------------------------------
def test_webhook_signed_json(robot) -> None:
    server = robot("webhook")
    send_webhook(message("webhook", {"url": server.url, "secret": server.secret}), SETTINGS, NOW)
    (got,) = server.accepted
    assert got.document["idempotency_key"] == "reminder:7|x|abc"
    assert got.document["payload"] == {"milestone": "voter_registration"}
    assert got.document["election_id"] == 7
    assert got.headers["X-Huanjie-Timestamp"] == str(int(NOW.timestamp()))


def test_webhook_bad_secret_is_permanent(robot) -> None:
    server = robot("webhook")
    with pytest.raises(PermanentError, match="HTTP 401"):
        send_webhook(message("webhook", {"url": server.url, "secret": "other"}), SETTINGS, NOW)


@pytest.mark.parametrize("status", [500, 503, 429])
def test_webhook_server_errors_are_transient(robot, status) -> None:
    server = robot("webhook", fail_next=1, fail_status=status)
    with pytest.raises(TransientError, match=f"HTTP {status}"):
        send_webhook(message("webhook", {"url": server.url, "secret": server.secret}), SETTINGS, NOW)
    send_webhook(message("webhook", {"url": server.url, "secret": server.secret}), SETTINGS, NOW)
    assert len(server.accepted) == 1


def test_webhook_unreachable_is_transient() -> None:
    url = f"http://127.0.0.1:{free_port()}/nobody-listens"
    with pytest.raises(TransientError):
        send_webhook(message("webhook", {"url": url, "secret": "s"}), SETTINGS, NOW)


def test_webhook_refuses_non_http_urls() -> None:
    with pytest.raises(PermanentError, match="not an http"):
        send_webhook(message("webhook", {"url": "file:///etc/passwd", "secret": "s"}), SETTINGS, NOW)


def test_malformed_robot_url_is_permanent_and_its_token_is_not_echoed() -> None:
    with pytest.raises(PermanentError) as caught:
        send_wecom(message("wecom", {"webhook": "http://127.0.0.1:bad port/x?key=SECRETKEY"}), SETTINGS, NOW)
    assert "SECRETKEY" not in str(caught.value)


def test_email_subject_line_breaks_are_folded(mail) -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=mail.port)
    broken = Message(**{**message("email", {"email": "a@b.example"}).__dict__, "subject": "第一行\r\n第二行"})
    send_email(broken, settings, NOW)
    assert mail.sink.messages[0]["Subject"] == "第一行 第二行"


def test_webhook_needs_a_secret() -> None:
    with pytest.raises(PermanentError, match="secret"):
        send_webhook(message("webhook", {"url": "http://127.0.0.1:9/x"}), SETTINGS, NOW)


@given(
    secret=st.text(min_size=1, max_size=40),
    body=st.binary(max_size=200),
    skew=st.integers(min_value=-1000, max_value=1000),
)
def test_webhook_signature_verifies_only_untampered_fresh_bodies(secret, body, skew) -> None:
    timestamp = str(int(NOW.timestamp()) + skew)
    signature = webhook_signature(secret, timestamp, body)
    assert verify_webhook_signature(secret, timestamp, body, signature, NOW) == (abs(skew) <= 300)
    assert not verify_webhook_signature(secret, timestamp, body + b"x", signature, NOW)
    assert not verify_webhook_signature(secret + "x", timestamp, body, signature, NOW)


# -- e-mail --------------------------------------------------------------------------------------
def test_email_over_smtp(mail) -> None:
    sender = "京山县选举委员会 <xjw@jingshan.example.gov.cn>"
    settings = Settings(smtp_host="127.0.0.1", smtp_port=mail.port, smtp_from=sender)
    send_email(message("email", {"name": "县选举委员会办公室", "email": "office@jingshan.example"}), settings, NOW)
    (got,) = mail.sink.messages
    assert mail.sink.envelopes == [("xjw@jingshan.example.gov.cn", ["office@jingshan.example"])]
    assert got["Subject"] == "距选民登记截止还有 3 天"
    assert got["To"].addresses[0].display_name == "县选举委员会办公室"
    assert got["Message-ID"] == message_id("reminder:7|x|abc", sender)
    assert got["Message-ID"].endswith("@jingshan.example.gov.cn>")
    assert got["X-Huanjie-Idempotency-Key"] == "reminder:7|x|abc"
    assert "选举法第二十八条" in got.get_content()
    # The same key gives the same Message-ID: a mail client or archive can drop the duplicate.
    assert message_id("reminder:7|x|abc", "a@b") == message_id("reminder:7|x|abc", "a@b")
    assert message_id("reminder:7|x|abc", "a@b") != message_id("reminder:8|x|abc", "a@b")


def test_email_refused_mailbox_is_permanent(mail) -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=mail.port)
    with pytest.raises(PermanentError, match="550"):
        send_email(message("email", {"email": "nobody@refused.example"}), settings, NOW)
    assert mail.sink.messages == []


def test_email_without_address_is_permanent() -> None:
    with pytest.raises(PermanentError):
        send_email(message("email", {"name": "x"}), SETTINGS, NOW)


def test_email_server_down_is_transient() -> None:
    settings = Settings(smtp_host="127.0.0.1", smtp_port=free_port(), smtp_timeout_seconds=2)
    with pytest.raises(OSError):
        send_email(message("email", {"email": "a@b.example"}), settings, NOW)


# -- log and masking -----------------------------------------------------------------------------
def test_log_channel(caplog) -> None:
    with caplog.at_level(logging.INFO, logger="huanjie.delivery"):
        send_log(message("log", {"name": "办公室"}), SETTINGS, NOW)
    assert "reminder:7|x|abc" in caplog.text and "距选民登记截止还有 3 天" in caplog.text


def test_listing_masks_secrets_but_shows_environment_references() -> None:
    shown = masked_recipient(
        {"webhook": "https://oapi.dingtalk.com/robot/send?access_token=abc", "secret": "SECxyz", "name": "n"}
    )
    assert shown == {"webhook": "https://oapi.dingtalk.com/robot/send?access_token=***", "secret": "***", "name": "n"}
    assert masked_recipient({"secret": "env:DING"}) == {"secret": "env:DING"}
