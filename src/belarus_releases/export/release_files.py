"""Export, a release's files besides its tables: datapackage.json, the source documents, the package's verdict,
the zip, and the manifest; the build (export/build.py) has written or linked every table's files before.

The descriptor is written before the tables (it depends on none of them, and the package's verifier reads it while
they are written). A full build starts compressing each table's zip members as soon as its files are written, and
copies the source documents while the processes beside it finish; the digests of the files made so far are taken
before the build waits for the database process's answer.
"""

from __future__ import annotations

from collections.abc import Callable
from pathlib import Path
from typing import Any

from belarus_releases.export.build_state import Build
from belarus_releases.export.datapackage import datapackage_descriptor, verified_package, write_datapackage
from belarus_releases.export.downloads import DATAPACKAGE, PACKAGE_ZIP, ZIPPED, copy_source_texts, table_files
from belarus_releases.export.flatten import source_entries
from belarus_releases.export.incremental import Plan, file_entry, release_entry, write_manifest
from belarus_releases.export.package_check import Dialects, Key, Target
from belarus_releases.export.package_zip import PackageZip
from belarus_releases.export.publish import EarlySync
from belarus_releases.problems import Problem
from belarus_releases.tables import BY_NAME


def descriptor_written(build: Build, folder: Path) -> Path:
    """datapackage.json, first: it depends on no table (the package's verifier reads it while the tables are written)."""
    descriptor = datapackage_descriptor(build.layout, build.metadata, folder=build.layout.current)
    return write_datapackage(descriptor, folder / DATAPACKAGE)


def finish(build: Build, folder: Path, package: PackageZip, plan: Plan | None = None,
           settled: Callable[[], None] = lambda: None, syncing: EarlySync | None = None) -> list[Problem]:
    """Everything after the table files: the source documents, the verification, the downloads and the manifest.
    `settled` returns once the previous release's files are known to be those its manifest lists (they are checked
    meanwhile), before its source documents are linked and the build waits for the database process; `syncing` (a
    full build's) is given every file final by then."""
    package.add([DATAPACKAGE, *table_files(("csv", "json"))])
    # a full build copies the sources while the processes beside it work (into staging: gone if the build fails)
    digests = copied_sources(build, folder, None) if plan is None else {}
    invalid, dialects = verified(build, folder, plan, package)
    digests |= digests_so_far(folder, plan)
    settled()
    if plan is not None:  # linked from the previous release once it is known sound (a damaged one is a Doubt first)
        digests |= copied_sources(build, folder, plan)
    if syncing is not None:  # the files final by now, those with their digests taken (not the database or overview)
        syncing.add([folder / name for name in digests])
    checked = build.database.result()
    if syncing is not None:
        syncing.wait()
    problems = checked.foreign_keys + checked.queries + invalid
    if not problems:
        problems += checked.overview
    if not problems:
        build.progress("package")
        write_manifest(folder, build.key, build.digests, build.result.rows, digests | checked.entries, dialects,
                       checked.releases_digest, plan)
    return problems


def copied_sources(build: Build, folder: Path, plan: Plan | None) -> dict[str, list[Any]]:
    """The source documents the sources table lists, copied into the release, with their manifest entries: a source
    linked from the previous release has its verified entry there, not read again."""
    files = [str(entry["file"]) for entry in source_entries(build.result.check)]
    same = same_sources(build, files, plan)
    copy_source_texts(build.layout, files, folder, same)
    return {name: plan.manifest["files"][name] if plan and name in same else file_entry(folder / name) for name in files}


def verified(build: Build, folder: Path, plan: Plan | None,
             package: PackageZip) -> tuple[list[Problem], Dialects | None]:
    """The package checked (with the zip's CSV and JSON members compressed meanwhile), then, once the database
    process has written the Parquet files, the zip."""
    build.progress("validate")
    shown_in = f"{build.layout.relative(build.layout.current)}/"
    if build.verifier is not None:
        verdict = build.verifier.verified(folder / DATAPACKAGE, folder, shown_in=shown_in)
    else:
        verdict = verified_package(folder / DATAPACKAGE, folder, shown_in=shown_in,
                                   previous=plan.previous if plan else None,
                                   dialects=plan.manifest.get("dialects") if plan else None, known=published_keys(plan))
    build.progress("database")
    build.database.parquet_written()
    package.add(table_files(("parquet",)))
    package.write(folder / PACKAGE_ZIP, ZIPPED)
    return verdict


def published_keys(plan: Plan | None) -> dict[Target, set[Key]]:
    """The previous release's event ids, by the key the other tables refer to (its events.csv is then not read for
    them)."""
    if plan is None:
        return {}
    events = BY_NAME["events"]
    return {(events.name, events.primary_key): {(record_id,) for record_id in plan.published}}


def same_sources(build: Build, files: list[str], plan: Plan | None) -> dict[str, Path]:
    """The previous release's copy of each source document whose bytes are the same now (its verified digest in
    the manifest is the one the check took of the file in sources/)."""
    if plan is None:
        return {}
    previous, folder = plan.manifest["files"], build.layout.relative(build.layout.sources)
    return {name: plan.previous / name for name in files
            if name in previous and previous[name][1] == build.inputs.get(f"{folder}/{name}")}


def digests_so_far(folder: Path, plan: Plan | None) -> dict[str, list[Any]]:
    """The size and SHA-256 of each file that is final by now (the tables' files, the descriptor and the zip): from
    the previous release's manifest for a file linked from it."""
    return {name: release_entry(folder, name, plan) for name in (DATAPACKAGE, PACKAGE_ZIP, *table_files())}
