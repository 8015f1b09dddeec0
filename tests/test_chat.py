"""Chat notices: Slack's incoming-webhook format, text nobody can inject into, and a
client that gives up cleanly, posted to a real HTTP receiver on localhost."""

from __future__ import annotations

import re
import socket
import threading
from collections.abc import Iterator
from datetime import timedelta
from typing import Any

import pytest

from grantops import chat, webhook
from grantops.access import Principal, Target
from grantops.audit.events import NotificationSent
from grantops.audit.report import GrantRecord
from grantops.plan import Kept, Plan, Unapproved
from grantops.safetext import MRKDWN_LIMIT, for_mrkdwn
from grantops.webhook import Webhook, WebhookError

from .chat_receiver import Answer, Receiver, receiver, refused_url
from .data import NOW

__all__ = ["receiver"]

HOSTILE = [
    "<!channel> wake up",
    "<!here|here>",
    "<@U024BE7LH>",
    "<!subteam^SAZ94GDB8>",
    "<https://evil.example/login|click to renew your access>",
    "*bold* _italic_ ~strike~ `code` ```block```",
    "> quoted\n> lines",
    "&lt;!channel&gt; already escaped",
    "@channel @here",
    "https://evil.example/phish",
    "line\nbreak\r\u202eevil\x1b[31m",
]

SOURCE = "grants/octocat/hotfix.yaml"


def _record(reason: str = "INC-4821", login: str = "octocat", slug: str = "sre") -> GrantRecord:
    grantables = (
        (Principal.user(login), Target.repo("acme", "payments-api"), "push"),
        (Principal.team(slug), Target.repo("acme", "payments-api"), "maintain"),
    )
    return GrantRecord(SOURCE, grantables, None, NOW + timedelta(minutes=30), reason, pull=7)


def _untrusted_outside_code(text: str) -> list[str]:
    """What Slack would parse in ``text``: control sequences anywhere, and formatting or
    mentions outside code spans (the only text grantops writes there is ``*Access ...*``)."""
    found = re.findall(r"<[^>]*>", text)
    outside = "".join(re.split(r"`[^`]*`", text))
    found += re.findall(r"@\w+|https?://", outside)
    found += [m for m in re.findall(r"[*_~][^*_~]+[*_~]", outside) if not m.startswith("*Access")]
    return found


def _slack_shape(body: dict[str, Any]) -> None:
    """Slack's incoming-webhook message: ``text`` (the notification fallback) and blocks,
    each a ``section`` with a ``mrkdwn`` text object, within Slack's 3,000 characters."""
    assert set(body) == {"text", "blocks"}
    assert isinstance(body["text"], str) and body["text"]
    for block in body["blocks"]:
        assert block["type"] == "section"
        assert block["text"]["type"] == "mrkdwn"
        assert block["text"]["verbatim"] is True
        assert 0 < len(block["text"]["text"]) <= 3000


def test_a_notice_is_posted_as_slack_json(receiver: Receiver) -> None:
    notice = chat.due(
        chat.Asked([_record()], [], Plan(NOW, "acme", ()), {}), NOW, timedelta(hours=1), ["started"]
    )[0]
    Webhook(receiver.url).post(chat.payload(notice))
    [request] = receiver.received
    assert request.method == "POST"
    assert request.path == "/services/T000/B000/secretpart"
    assert request.headers["content-type"] == "application/json; charset=utf-8"
    _slack_shape(request.json)
    assert request.json["text"] == request.json["blocks"][0]["text"]["text"]
    assert request.json["text"] == (
        "*Access started* for `team:sre`, `user:octocat`: `push on repo:acme/payments-api, "
        "maintain on repo:acme/payments-api` until 2026-11-30T12:30:00Z, for `INC-4821` "
        "(`grants/octocat/hotfix.yaml`, pull request #7)."
    )


@pytest.mark.parametrize("hostile", HOSTILE)
def test_nothing_from_a_grant_mentions_links_or_formats(hostile: str) -> None:
    records = [_record(reason=hostile, login=hostile, slug=hostile)]
    refused = Kept(Principal.user(hostile), Target.repo("acme", hostile), "admin", hostile, hostile)
    plan = Plan(NOW, "acme", (), refused=(refused,), unapproved=(Unapproved(hostile, hostile),))
    asked = chat.Asked(records, [], plan, {})
    notices = chat.due(asked, NOW, timedelta(hours=1), ["started", "ending", "refused"])
    notices.append(chat.opened(hostile, 3, hostile, hostile))
    assert [n.kind for n in notices] == ["started", "ending", "refused", "refused", "opened"]
    for notice in notices:
        body = chat.payload(notice)
        _slack_shape(body)
        assert _untrusted_outside_code(body["text"]) == []
        assert "\n" not in body["text"] and "\u202e" not in body["text"]


def test_mrkdwn_shows_the_text_literally_and_briefly() -> None:
    assert for_mrkdwn("<!channel> & `x`") == "`&lt;!channel&gt; &amp; \u02cbx\u02cb`"
    assert for_mrkdwn("") == "(none)"
    long = for_mrkdwn("a" * 1000)
    assert len(long) == MRKDWN_LIMIT + 2 and long.endswith("\u2026`")


def test_only_a_pull_request_address_of_githubs_shape_is_linked() -> None:
    good = chat.opened(SOURCE, 12, "https://github.com/acme/access/pull/12", "Grant push")
    assert "<https://github.com/acme/access/pull/12|pull request #12>" in good.text
    sneaky = "https://github.com/acme/access/pull/12|x> <!channel"
    bad = chat.opened(SOURCE, 12, sneaky, "Grant push")
    assert "<" not in bad.text and bad.text.endswith("pull request #12.")


def test_a_notice_delivered_to_chat_is_not_due_there_again() -> None:
    record = _record()
    asked = chat.Asked([record], [], Plan(NOW, "acme", ()), {})
    [started] = chat.due(asked, NOW - timedelta(hours=1), timedelta(hours=1), ["started"])
    sent = NotificationSent(
        ts=NOW, run="r", source=SOURCE, pull=7, kind="started", channel=chat.CHANNEL
    )
    comment = NotificationSent(ts=NOW, run="r", source=SOURCE, pull=7, kind="ending")
    later = chat.Asked([record], [sent, comment], Plan(NOW, "acme", ()), {})
    due = chat.due(later, NOW, timedelta(hours=1), ["started", "ending"])
    assert started.kind == "started" and [n.kind for n in due] == ["ending"]


def test_only_the_kinds_the_policy_asks_for() -> None:
    asked = chat.Asked([_record()], [], Plan(NOW, "acme", ()), {})
    assert [n.kind for n in chat.due(asked, NOW, timedelta(hours=1), ["ending"])] == ["ending"]
    assert chat.due(asked, NOW, timedelta(hours=1), []) == []


@pytest.mark.parametrize(
    "url, problem",
    [
        ("https://hooks.slack.com/services/T/B/x", None),
        ("http://127.0.0.1:8080/hook", None),
        ("http://localhost/hook", None),
        ("http://hooks.slack.com/services/T/B/x", "must be an https URL"),
        ("ftp://hooks.slack.com/x", "must be an https URL"),
        ("hooks.slack.com/services/T/B/x", "is not a URL"),
        ("https://hooks.slack.com/ser vices", "is not a URL"),
        ("https://[::1", "is not a URL"),
        # http.client sends the address as ASCII and would fail outside WebhookError
        ("https://hooks.slack.com/services/T/B/\u00e9", "is not a URL"),
        ("https://h\u00e4oks.example/services/T/B/x", "is not a URL"),
    ],
)
def test_only_https_webhooks_or_this_machine(url: str, problem: str | None) -> None:
    hook, said = webhook.from_environ({webhook.ENV: url})
    assert (hook is None) == (problem is not None)
    assert said is None if problem is None else (problem in said and url not in said)


def test_no_variable_no_webhook() -> None:
    assert webhook.from_environ({}) == (None, None)
    assert webhook.from_environ({webhook.ENV: "  "}) == (None, None)


def test_the_address_stays_out_of_repr() -> None:
    assert "secret" not in repr(Webhook("https://hooks.example/T/B/secret"))


def _post(url: str, **settings: Any) -> tuple[str, list[float]]:
    """Post one message to ``url``: the error it raised, and the waits before retries."""
    waits: list[float] = []
    hook = Webhook(url, sleep=waits.append, **settings)
    with pytest.raises(WebhookError) as raised:
        hook.post({"text": "x"})
    message = str(raised.value)
    assert "secretpart" not in message and "127.0.0.1" not in message
    return message, waits


def test_a_busy_webhook_is_tried_once_more_after_retry_after(receiver: Receiver) -> None:
    receiver.script = [Answer(429, {"Retry-After": "7"}, b"rate_limited")]
    waits: list[float] = []
    Webhook(receiver.url, sleep=waits.append).post({"text": "x"})
    assert waits == [7.0] and len(receiver.received) == 2


def test_a_retry_after_that_is_a_date_waits_a_second(receiver: Receiver) -> None:
    receiver.script = [Answer(503, {"Retry-After": "Wed, 21 Oct 2026 07:28:00 GMT"})]
    waits: list[float] = []
    Webhook(receiver.url, sleep=waits.append).post({"text": "x"})
    assert waits == [1.0] and len(receiver.received) == 2


def test_a_failing_webhook_is_tried_twice_then_reported(receiver: Receiver) -> None:
    receiver.then = Answer(500, {"Retry-After": "99999"}, b"internal_error")
    message, waits = _post(receiver.url)
    assert message == "the chat webhook answered 500 Internal Server Error"
    assert waits == [webhook.MAX_WAIT] and len(receiver.received) == 2


def test_a_refusing_webhook_is_not_retried(receiver: Receiver) -> None:
    receiver.then = Answer(404, body=b"no_service")
    message, waits = _post(receiver.url)
    assert message == "the chat webhook answered 404 Not Found"
    assert waits == [] and len(receiver.received) == 1


def test_a_redirect_is_not_followed(receiver: Receiver) -> None:
    receiver.then = Answer(307, {"Location": "/elsewhere"})
    message, _ = _post(receiver.url)
    assert "307" in message and "redirects are not followed" in message
    assert [r.path for r in receiver.received] == ["/services/T000/B000/secretpart"]


def test_a_webhook_that_does_not_answer_in_time(receiver: Receiver) -> None:
    receiver.then = Answer(delay=2.0)
    message, _ = _post(receiver.url, timeout=0.2)
    assert message.startswith("could not reach the chat webhook: ")
    assert "timed out" in message


def test_a_webhook_nobody_listens_on() -> None:
    message, _ = _post(refused_url())
    assert message.startswith("could not reach the chat webhook: ")
    assert "refused" in message.lower()


@pytest.fixture(
    params=[b"not http at all\r\n\r\n", b"HTTP/1.1 200 OK\r\nContent-Length: 99\r\n\r\nok"]
)
def garbled(request: pytest.FixtureRequest) -> Iterator[str]:
    """A webhook address whose server reads the post, answers ``request.param`` (no
    HTTP at all, or a body cut short) and hangs up."""
    server = socket.create_server(("127.0.0.1", 0))

    def answer() -> None:
        connection, _ = server.accept()
        with connection:
            connection.recv(65536)
            connection.sendall(request.param)

    thread = threading.Thread(target=answer, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.getsockname()[1]}/services/T000/B000/secretpart"
    thread.join(timeout=5)
    server.close()


def test_a_webhook_that_answers_garbage_is_an_error_like_any_other(garbled: str) -> None:
    """Whatever answers at the address, a failed post is a WebhookError: anything else
    would escape the run's handling of a chat that is down, after access changed."""
    message, _ = _post(garbled)
    assert message.startswith("could not reach the chat webhook: ")


def test_a_refusal_of_many_grants_fits_one_slack_section() -> None:
    """Slack refuses a section longer than 3,000 characters, and the first notice that
    fails holds back the rest: one grant file asking for many repositories must not
    keep every later notice from being delivered."""
    refused = tuple(
        Kept(Principal.user("octocat"), Target.repo("acme", f"r{n:03}"), "admin", "<" * 300, "g")
        for n in range(40)
    )
    [notice] = chat.refusals(Plan(NOW, "acme", (), refused=refused), {})
    assert len(notice.text) <= chat.SECTION_LIMIT == 3000
    assert notice.text.endswith("; and 38 more.")  # each item is 1,238 characters
    assert notice.text.count("r0") == 2
