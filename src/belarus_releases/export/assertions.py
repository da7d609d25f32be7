"""Export, dataset assertions: the least a build may publish, as large sanctions datasets gate theirs (zavod).

Two guards against a dataset that shrinks by accident (records/ emptied, a bad merge, a broken rename), which
every other check would pass because each remaining file is valid:
- every table keeps at least the rows that assertions.yml declares, in one place, next to the data; a build
  below a bound reports `dataset-too-small` on the bound's line;
- a build does not drop an event that build/current publishes unless told to (`--allow-removals`): event
  ids are what data users link to, so removing one is a decision, never a side effect.
"""

from __future__ import annotations

import csv
from collections.abc import Collection, Iterable, Iterator
from itertools import chain

from belarus_releases.check.yaml_reader import Loaded
from belarus_releases.layout import Layout
from belarus_releases.problems import Problem, at

EVENTS = "events.csv"


def size_problems(assertions: Loaded, rows: dict[str, int]) -> Iterator[Problem]:
    """A problem, on the bound's line, for every table with fewer rows than assertions.yml requires."""
    for table, least in assertions.data["minimum_rows"].items():
        if rows.get(table, 0) < least:
            yield at(assertions.file, assertions.position(("minimum_rows", table)), "dataset-too-small",
                     f"the build would publish {rows.get(table, 0)} rows in {table}, fewer than the {least} required here; "
                     "restore the missing records, or lower this bound in a pull request that says why")


def removal_problems(layout: Layout, event_ids: Iterable[str], published: Collection[str] | None = None) -> list[Problem]:
    """A problem for every event that build/current publishes and the new build would not, on its record's file.
    `published`: the ids build/current publishes, when known (its manifest lists them): its events.csv is then read
    only to confirm a removal."""
    kept = set(event_ids)
    if published is None or not kept.issuperset(published):  # a removal `published` shows: confirmed in events.csv
        published, problem = published_event_ids(layout)
        if problem:
            return [problem]
    removed = sorted(set(published) - kept)
    shown = layout.relative(layout.output(EVENTS))
    return [Problem(layout.relative(layout.records / f"{event_id}.yml"), 0, 0, "events-removed",
                    f"event {event_id} is published ({shown}) but no record has this id any more; restore the record, "
                    "or run `belarus-releases build --allow-removals` if removing it is intended")
            for event_id in removed]


def published_event_ids(layout: Layout) -> tuple[set[str], Problem | None]:
    """The ids in build/current/events.csv (none before the first build), or a problem when it cannot be read."""
    path = layout.output(EVENTS)
    if not path.is_file():
        return set(), None
    try:
        with path.open(encoding="utf-8", newline="") as handle:
            return _ids(csv.reader(handle, strict=True)), None
    except (OSError, ValueError, KeyError, csv.Error) as error:  # ValueError covers text that is not UTF-8
        return set(), Problem(layout.relative(path), 0, 0, "build-failed",
                              f"cannot read the published events to compare with them ({type(error).__name__}: {error}); "
                              "nothing was changed; build with --allow-removals to publish without comparing")


def _ids(rows: Iterator[list[str]]) -> set[str]:
    """The id column's values, as csv.DictReader gives them (blank lines skipped, a missing id is a KeyError), from
    lists: a dict a row was most of the comparison's time."""
    header = next(rows, None)
    rows = filter(None, rows)
    first = next(rows, None)
    if header is None or first is None:
        return set()
    if "id" not in header:
        raise KeyError("id")
    column = header.index("id")
    return {row[column] if column < len(row) else None for row in chain((first,), rows)}  # type: ignore[misc]
