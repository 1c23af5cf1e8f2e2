"""A stand-in for the Faust table in front of which :class:`LiveStates` keeps decoded states."""

from __future__ import annotations


class Table:
    """Just what LiveStates touches of a Faust table: its name, its data, its changelog's name
    (whose records the tests using it do not read: the table's data is what a worker taking
    over holds)."""

    name = "series-state"

    def __init__(self) -> None:
        self.data: dict[bytes, bytes] = {}
        self.changelog_topic = self

    def get_topic_name(self) -> str:
        return "w-series-state-changelog"
