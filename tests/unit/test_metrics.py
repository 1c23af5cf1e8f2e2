"""Labels that input reaches keep a bounded number of series; a label's children kept."""

from __future__ import annotations

from prometheus_client import CollectorRegistry, Counter, Gauge

from marketpulse.metrics import OTHER, BoundedLabel, Children


def test_the_first_values_keep_their_own_label_and_later_ones_share_other() -> None:
    label = BoundedLabel(2)
    assert [label(v) for v in ["a", "b", "a", "c", "b", "d"]] == ["a", "b", "a", OTHER, "b", OTHER]


def test_a_value_that_came_back_after_the_limit_keeps_its_label() -> None:
    label = BoundedLabel(1)
    assert label("polygon") == "polygon"
    for n in range(1000):
        assert label(f"feed-{n}") == OTHER
    assert label("polygon") == "polygon"


def test_a_label_s_child_is_made_once_and_counts_in_its_metric() -> None:
    registry = CollectorRegistry()
    counter = Counter("records_total", "records", ["kind"], registry=registry)
    gauge = Gauge("last_seconds", "last", ["symbol"], registry=registry)
    by_kind, by_symbol = Children(counter), Children(gauge)
    assert by_kind("bar") is by_kind("bar") is counter.labels("bar")
    by_kind("bar").inc()
    by_kind("bar").inc(2)
    by_kind("signal").inc()
    by_symbol("AAPL").set(5.0)
    value = registry.get_sample_value
    assert value("records_total", {"kind": "bar"}) == 3
    assert value("records_total", {"kind": "signal"}) == 1
    assert value("last_seconds", {"symbol": "AAPL"}) == 5.0
