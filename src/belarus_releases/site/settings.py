"""The site's Datasette settings, in one place.

`belarus-releases serve` passes them to Datasette when it makes it; the plugin imposes them at start-up on any
other Datasette process in this environment (plain `datasette build/current/belarus-releases.db -m metadata.yml`);
`setting_arguments` writes them as `--setting` options for a command line such as `datasette publish`.
"""

from __future__ import annotations

from collections.abc import Mapping
from typing import Any

# Names and defaults: datasette/app.py SETTINGS and docs/settings.rst (0.65).
SETTINGS: dict[str, Any] = {
    # Suggesting facets runs a query per column on every table page: over 10x less throughput on this data.
    "suggest_facets": False,
    # Any one query (a runaway recursive CTE, say) gets one second; then SQLite's progress handler stops it.
    "sql_time_limit_ms": 1000,
    # Facets the metadata asks for are small GROUP BYs; 500 ms leaves room for them while two cores are busy.
    "facet_time_limit_ms": 500,
    "max_returned_rows": 1000,
    # SQLite drops the GIL while it runs, so two per core: a slow query or a CSV stream holds one thread for
    # up to the time limit while the others answer pages. With the default 3, three runaway queries at once
    # stalled every page for a second (benchmarks/serving.py); with 4, and the plugin letting visitor SQL use
    # at most half of them at once, the row page stayed near 35 ms under any number of runaway queries.
    "num_sql_threads": 4,
    # The whole database is public and small, so offering the .db file itself is a feature.
    "allow_download": True,
    # Arbitrary SQL stays on: Datasette accepts only SELECT statements, on a database opened read-only.
    "default_allow_sql": True,
}

# Datasette reads these once, while it is constructed (num_sql_threads sizes its thread pool), so the plugin
# cannot impose them on a running instance. A plain `datasette` keeps its own thread count (3 unless told
# otherwise) and the visitor-SQL cap follows the real count (middleware.visitor_sql_limit), which is stricter;
# `belarus-releases serve` and a command line built with `setting_arguments` get exactly SETTINGS.
FIXED_AT_CONSTRUCTION = frozenset({"num_sql_threads"})


def imposable_settings() -> dict[str, Any]:
    """The settings the plugin imposes on a Datasette that is already constructed: all but FIXED_AT_CONSTRUCTION."""
    return {name: value for name, value in SETTINGS.items() if name not in FIXED_AT_CONSTRUCTION}


def setting_arguments(settings: Mapping[str, Any] = SETTINGS) -> list[str]:
    """The settings as Datasette command-line options, `--setting NAME VALUE` each, booleans written on/off.

    Example: ``["--setting", "suggest_facets", "off", "--setting", "sql_time_limit_ms", "1000", ...]``.
    """
    arguments: list[str] = []
    for name, value in settings.items():
        text = ("on" if value else "off") if isinstance(value, bool) else str(value)
        arguments += ["--setting", name, text]
    return arguments
