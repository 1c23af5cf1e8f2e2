"""Labels that input reaches keep a bounded number of series."""

from __future__ import annotations

from marketpulse.metrics import OTHER, BoundedLabel


def test_the_first_values_keep_their_own_label_and_later_ones_share_other() -> None:
    label = BoundedLabel(2)
    assert [label(v) for v in ["a", "b", "a", "c", "b", "d"]] == ["a", "b", "a", OTHER, "b", OTHER]


def test_a_value_that_came_back_after_the_limit_keeps_its_label() -> None:
    label = BoundedLabel(1)
    assert label("polygon") == "polygon"
    for n in range(1000):
        assert label(f"feed-{n}") == OTHER
    assert label("polygon") == "polygon"
