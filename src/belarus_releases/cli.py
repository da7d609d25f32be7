"""The command line: each command is a few lines around one library call."""

from __future__ import annotations

from dataclasses import replace
from pathlib import Path

import click

from belarus_releases import __version__
from belarus_releases.check.dataset import check_dataset
from belarus_releases.layout import Layout
from belarus_releases.report import FORMATS, render


def _layout(root: str) -> Layout:
    layout = Layout(Path(root).resolve())
    if not layout.records.is_dir():
        raise click.UsageError(f"{root} is not a dataset repository (it has no records/ folder); "
                               "run this from the repository's top folder")
    return layout


root_option = click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
                           help="The dataset repository.")


@click.group()
@click.version_option(__version__, prog_name="belarus-releases")
def cli() -> None:
    """Validate, build and publish the belarus-releases dataset."""


@cli.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for programs, github for pull-request annotations.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
def validate(root: str, fmt: str, as_json: bool) -> None:
    """Check every record, registry and quote; print every problem as FILE:LINE:COL.

    Exits 0 when the dataset is valid, 1 when it has problems, 2 on misuse.

    Example:

    \b
        belarus-releases validate
        belarus-releases validate --format github
    """
    result = check_dataset(_layout(root))
    click.echo(render(result, "json" if as_json else fmt), nl=False)
    raise SystemExit(0 if result.ok else 1)


@cli.command()
@root_option
@click.option("--host", default="127.0.0.1", show_default=True, help="Interface to listen on; 0.0.0.0 for every interface.")
@click.option("--port", default=8001, show_default=True, type=click.IntRange(0, 65535), help="Port to listen on.")
@click.option("--get", "path", metavar="PATH", help="Print the body of one response for PATH and exit; starts no server.")
def serve(root: str, host: str, port: int, path: str | None) -> None:
    """Publish the built database with Datasette: read-only, time-limited, with security headers.

    With --get, exits 1 when the response is an HTTP error.

    Example:

    \b
        belarus-releases serve
        belarus-releases serve --get /belarus-releases/events.json
    """
    # Imported here: Datasette is slow to import, and the other commands don't need it.
    from belarus_releases.site.serve import ServeError, fetch
    from belarus_releases.site.serve import serve as run

    layout = _layout(root)
    try:
        if path is None:
            run(layout, host=host, port=port)
            return
        page = fetch(layout, path)
    except ServeError as error:
        raise click.ClickException(str(error)) from error
    click.echo(page.text)
    raise SystemExit(1 if page.status >= 400 else 0)


@cli.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to print problems: text, json or github.")
@click.option("--allow-removals", is_flag=True,
              help="Publish even if events that build/current publishes have no record any more.")
def build(root: str, fmt: str, allow_removals: bool) -> None:
    """Check the dataset, then publish every output (CSV, JSON, SQLite, datapackage.json) as a new release in
    build/releases/, switching build/current to it in one step.

    Writes nothing unless every check passes; exits 1 with the problems otherwise.

    Example:

    \b
        belarus-releases build
        datasette build/current/belarus-releases.db -m metadata.yml
    """
    from belarus_releases.export.build import build_dataset  # imported here: validate needs neither sqlite-utils nor the writers

    layout = _layout(root)
    result = build_dataset(layout, allow_removals=allow_removals)
    if not result.ok or result.release is None:
        click.echo(render(replace(result.check, problems=result.problems), fmt), nl=False)
        raise SystemExit(1)
    click.echo(f"Built {len(result.rows)} tables ({sum(result.rows.values()):,} rows) into "
               f"{layout.relative(result.release)}/; {layout.relative(layout.current)} points to it.")
