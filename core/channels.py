"""The three channels a detainer request can arrive on: the value every stage shares."""

from __future__ import annotations

from enum import StrEnum


class Channel(StrEnum):
    """How a document reached the department."""

    dedicated_fax = "dedicated_fax"  # the Operations Division's dedicated detainer fax line
    station_fax = "station_fax"  # a district booking station's fax machine
    bfs_email = "bfs_email"  # the Bureau of Field Services mailbox
