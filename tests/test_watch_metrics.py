"""What ``grantops watch`` tells operators: /metrics for Prometheus, /healthz for probes.

The exposition is read back with Prometheus's own parser, so a line it would reject
fails here; the endpoint is reached over real HTTP.
"""

from __future__ import annotations

import json
import threading
import urllib.error
import urllib.request
from datetime import UTC, datetime, timedelta
from typing import Any

import pytest
from prometheus_client.parser import text_string_to_metric_families

from grantops.errors import UsageError
from grantops.watch.endpoint import METRICS_TYPE, Endpoint, parse_listen, serve
from grantops.watch.metrics import LATENESS_BUCKETS, Metrics

NOW = datetime(2026, 12, 7, 14, 0, tzinfo=UTC)
FRESH = timedelta(minutes=20)


def _samples(text: str) -> dict[tuple[str, frozenset[tuple[str, str]]], float]:
    """Every sample as {(name, labels): value}, parsed as Prometheus parses a scrape."""
    return {
        (sample.name, frozenset(sample.labels.items())): sample.value
        for family in text_string_to_metric_families(text)
        for sample in family.samples
    }


def _types(text: str) -> dict[str, str]:
    return {family.name: family.type for family in text_string_to_metric_families(text)}


def _value(text: str, name: str, **labels: str) -> float:
    return _samples(text)[(name, frozenset(labels.items()))]


def _busy() -> Metrics:
    metrics = Metrics()
    for result in ("done", "done", "invited", "failed"):
        metrics.changed(result)
    for edge, seconds in (("start", 0.2), ("start", 1.0), ("start", 7.5), ("end", 1200.0)):
        metrics.late(edge, seconds)
    metrics.failed("read")
    metrics.failed("read")
    metrics.failed("pull")
    metrics.budget(4711)
    metrics.reconciled(NOW - timedelta(minutes=3))
    metrics.next_change(NOW + timedelta(seconds=90))
    return metrics


def test_a_new_watcher_exposes_zeros_and_no_unknown_gauges() -> None:
    text = Metrics().render()
    assert _types(text) == {
        "grantops_changes": "counter",
        "grantops_window_lateness_seconds": "histogram",
        "grantops_failures": "counter",
    }
    assert _value(text, "grantops_changes_total", result="done") == 0
    assert _value(text, "grantops_failures_total", stage="auth") == 0
    assert _value(text, "grantops_window_lateness_seconds_count", edge="end") == 0
    assert "grantops_rate_limit_remaining" not in text
    assert "grantops_next_change_timestamp_seconds" not in text


def test_counters_count_each_result_and_stage() -> None:
    text = _busy().render()
    assert _value(text, "grantops_changes_total", result="done") == 2
    assert _value(text, "grantops_changes_total", result="invited") == 1
    assert _value(text, "grantops_changes_total", result="failed") == 1
    assert _value(text, "grantops_failures_total", stage="read") == 2
    assert _value(text, "grantops_failures_total", stage="pull") == 1
    assert _value(text, "grantops_failures_total", stage="apply") == 0
    assert "# HELP grantops_changes_total " in text
    assert "# TYPE grantops_window_lateness_seconds histogram" in text


def test_lateness_is_a_cumulative_histogram_per_edge() -> None:
    text = _busy().render()
    start = {
        le: _value(text, "grantops_window_lateness_seconds_bucket", edge="start", le=le)
        for le in ("0.5", "1", "2", "5", "10", "15", "30", "60", "300", "900", "+Inf")
    }
    assert start == {
        "0.5": 1, "1": 2, "2": 2, "5": 2, "10": 3, "15": 3,
        "30": 3, "60": 3, "300": 3, "900": 3, "+Inf": 3,
    }  # fmt: skip
    assert _value(text, "grantops_window_lateness_seconds_sum", edge="start") == 8.7
    assert _value(text, "grantops_window_lateness_seconds_count", edge="start") == 3
    # Twenty minutes late: beyond the last bound, counted only under +Inf.
    assert _value(text, "grantops_window_lateness_seconds_bucket", edge="end", le="900") == 0
    assert _value(text, "grantops_window_lateness_seconds_bucket", edge="end", le="+Inf") == 1
    assert 'le="1"}' in text and 'le="1.0"' not in text  # bounds written as Prometheus does
    assert len(LATENESS_BUCKETS) == 10


def test_gauges_give_the_budget_and_times_as_unix_seconds() -> None:
    metrics = _busy()
    text = metrics.render()
    assert _value(text, "grantops_rate_limit_remaining") == 4711
    assert _value(text, "grantops_last_reconcile_timestamp_seconds") == (
        (NOW - timedelta(minutes=3)).timestamp()
    )
    assert _value(text, "grantops_next_change_timestamp_seconds") == NOW.timestamp() + 90
    metrics.next_change(None)
    metrics.budget(None)
    text = metrics.render()
    assert "grantops_next_change_timestamp_seconds" not in text
    assert "grantops_rate_limit_remaining" not in text
    assert "grantops_last_reconcile_timestamp_seconds" in text


def test_a_label_value_cannot_break_the_exposition() -> None:
    metrics = Metrics()
    metrics.failed('odd"stage\\\n{x="1"} 99')
    text = metrics.render()
    assert _value(text, "grantops_failures_total", stage='odd"stage\\\n{x="1"} 99') == 1
    assert sum(1 for line in text.splitlines() if line.startswith("grantops_failures")) == 6


def test_updates_from_many_threads_are_all_counted() -> None:
    metrics = Metrics()

    def work() -> None:
        for _ in range(500):
            metrics.changed("done")
            metrics.late("end", 1.0)

    threads = [threading.Thread(target=work) for _ in range(4)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    text = metrics.render()
    assert _value(text, "grantops_changes_total", result="done") == 2000
    assert _value(text, "grantops_window_lateness_seconds_count", edge="end") == 2000


def test_health_is_starting_before_the_first_reconcile() -> None:
    metrics = Metrics()
    metrics.next_change(NOW + timedelta(minutes=5))
    assert metrics.health(NOW, FRESH) == (
        503,
        {
            "status": "starting",
            "last_reconcile": None,
            "next_change": "2026-12-07T14:05:00Z",
            "failures": 0,
        },
    )


@pytest.mark.parametrize(
    ("age", "code", "status"),
    [
        (timedelta(0), 200, "ok"),
        (FRESH, 200, "ok"),
        (FRESH + timedelta(seconds=1), 503, "stale"),
    ],
)
def test_health_follows_the_age_of_the_last_full_reconcile(
    age: timedelta, code: int, status: str
) -> None:
    metrics = _busy()
    metrics.reconciled(NOW - age)
    metrics.next_change(None)
    assert metrics.health(NOW, FRESH) == (
        code,
        {
            "status": status,
            "last_reconcile": (NOW - age).strftime("%Y-%m-%dT%H:%M:%SZ"),
            "next_change": None,
            "failures": 3,
        },
    )


def _get(url: str, method: str = "GET") -> tuple[int, dict[str, str], bytes]:
    request = urllib.request.Request(url, method=method)
    try:
        with urllib.request.urlopen(request, timeout=10) as answer:
            return answer.status, dict(answer.headers), answer.read()
    except urllib.error.HTTPError as error:
        with error:
            return error.code, dict(error.headers), error.read()


@pytest.fixture
def endpoint() -> Any:
    clock = {"now": NOW}
    with serve("127.0.0.1:0", _busy(), FRESH, lambda: clock["now"]) as running:
        yield running, clock


def test_metrics_over_http(endpoint: tuple[Endpoint, dict[str, datetime]]) -> None:
    running, _ = endpoint
    status, headers, body = _get(running.url + "/metrics")
    assert status == 200
    assert headers["Content-Type"] == METRICS_TYPE == "text/plain; version=0.0.4; charset=utf-8"
    assert _value(body.decode(), "grantops_changes_total", result="done") == 2


def test_healthz_over_http_judged_at_the_clock(
    endpoint: tuple[Endpoint, dict[str, datetime]],
) -> None:
    running, clock = endpoint
    status, headers, body = _get(running.url + "/healthz")
    assert (status, headers["Content-Type"]) == (200, "application/json")
    assert json.loads(body) == {
        "status": "ok",
        "last_reconcile": "2026-12-07T13:57:00Z",
        "next_change": "2026-12-07T14:01:30Z",
        "failures": 3,
    }
    clock["now"] = NOW + FRESH
    status, _, body = _get(running.url + "/healthz?verbose=1")
    assert (status, json.loads(body)["status"]) == (503, "stale")


@pytest.mark.parametrize("path", ["/", "/metrics/", "/healthz.json", "/../metrics"])
def test_other_paths_are_not_found(
    endpoint: tuple[Endpoint, dict[str, datetime]], path: str
) -> None:
    running, _ = endpoint
    status, _, body = _get(running.url + path)
    assert status == 404 and b"grantops" not in body


@pytest.mark.parametrize("method", ["POST", "PUT", "PATCH", "DELETE", "HEAD", "OPTIONS"])
def test_only_get_is_allowed(endpoint: tuple[Endpoint, dict[str, datetime]], method: str) -> None:
    running, _ = endpoint
    status, headers, _ = _get(running.url + "/metrics", method)
    assert (status, headers["Allow"]) == (405, "GET")


def test_requests_are_not_logged(
    endpoint: tuple[Endpoint, dict[str, datetime]], capfd: pytest.CaptureFixture[str]
) -> None:
    running, _ = endpoint
    for path in ("/metrics", "/healthz", "/nowhere"):
        _get(running.url + path)
    assert capfd.readouterr() == ("", "")


def test_an_ipv6_endpoint_and_its_url() -> None:
    with serve("[::1]:0", Metrics(), FRESH, lambda: NOW) as running:
        assert running.url.startswith("http://[::1]:")
        status, _, body = _get(running.url + "/healthz")
    assert (status, json.loads(body)["status"]) == (503, "starting")


def test_close_stops_listening() -> None:
    running = serve("127.0.0.1:0", Metrics(), FRESH, lambda: NOW)
    url = running.url
    assert _get(url + "/metrics")[0] == 200
    running.close()
    with pytest.raises(urllib.error.URLError):
        urllib.request.urlopen(url + "/metrics", timeout=5)


def test_a_port_in_use_is_a_usage_error() -> None:
    with serve("127.0.0.1:0", Metrics(), FRESH, lambda: NOW) as running:
        taken = running.url.rpartition(":")[2]
        with pytest.raises(UsageError, match=rf"--listen '127.0.0.1:{taken}': cannot listen"):
            serve(f"127.0.0.1:{taken}", Metrics(), FRESH, lambda: NOW)


@pytest.mark.parametrize(
    ("value", "parsed"),
    [
        ("127.0.0.1:9100", ("127.0.0.1", 9100)),
        ("0.0.0.0:0", ("0.0.0.0", 0)),
        ("localhost:9100", ("localhost", 9100)),
        ("[::1]:9100", ("::1", 9100)),
        ("[::]:65535", ("::", 65535)),
    ],
)
def test_listen_addresses(value: str, parsed: tuple[str, int]) -> None:
    assert parse_listen(value) == parsed


@pytest.mark.parametrize(
    ("value", "why"),
    [
        ("9100", "is not HOST:PORT"),
        (":9100", "is not HOST:PORT"),
        ("", "is not HOST:PORT"),
        ("::1:9100", r"an IPv6 address in brackets: \[::1\]:9100"),
        ("[::1]", "is not HOST:PORT"),
        ("host:1:2", "is not HOST:PORT"),
        ("[nope]:9100", "'nope' is not an IPv6 address"),
        ("[127.0.0.1]:9100", "'127.0.0.1' is not an IPv6 address"),
        ("bad host:9100", "'bad host' is not a host name or address"),
        ("-x:9100", "'-x' is not a host name or address"),
        ("host:", "the port must be a number from 0 to 65535"),
        ("host:65536", "the port must be a number from 0 to 65535"),
        ("host:-1", "the port must be a number from 0 to 65535"),
        ("host:http", "the port must be a number from 0 to 65535"),
        ("host:\u0661\u0662", "the port must be a number from 0 to 65535"),
    ],
)
def test_bad_listen_addresses_are_usage_errors(value: str, why: str) -> None:
    with pytest.raises(UsageError, match=why) as raised:
        parse_listen(value)
    assert raised.value.exit_code == 2


def test_health_fails_while_the_access_repository_is_refused() -> None:
    metrics = _busy()
    metrics.reconciled(NOW)
    metrics.refused(True)
    code, body = metrics.health(NOW, FRESH)
    assert (code, body["status"]) == (503, "refused")
    metrics.refused(False)
    assert metrics.health(NOW, FRESH)[0] == 200
