"""The command line: each command is a few lines around one library call."""

from __future__ import annotations

import datetime as dt
import os
import sys
from dataclasses import replace
from pathlib import Path

import click

from belarus_releases import __version__
from belarus_releases.diff_report import FORMATS as DIFF_FORMATS
from belarus_releases.layout import Layout
from belarus_releases.progress import progress_bar
from belarus_releases.report import FORMATS, render


def _colour() -> bool | None:
    """Colours only on a terminal (click decides), and never when NO_COLOR is set (https://no-color.org)."""
    return False if os.environ.get("NO_COLOR") else None


def _layout(root: str) -> Layout:
    layout = Layout(Path(root).resolve())
    if not layout.records.is_dir():
        raise click.UsageError(f"{root} is not a dataset repository (it has no records/ folder); "
                               "run this from the repository's top folder")
    return layout


root_option = click.option("--root", default=".", show_default=True, type=click.Path(file_okay=False),
                           help="The dataset repository.")
no_cache_option = click.option("--no-cache", is_flag=True,
                               help="Check every file anew, neither reading nor writing build/cache/ (same result, slower).")


@click.group()
@click.version_option(__version__, prog_name="belarus-releases")
def cli() -> None:
    """Validate, build and publish the belarus-releases dataset."""


@cli.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="text for people, json for programs, github for pull-request annotations.")
@click.option("--json", "as_json", is_flag=True, help="Same as --format json.")
@no_cache_option
def validate(root: str, fmt: str, as_json: bool, no_cache: bool) -> None:
    """Check every record, registry and quote; print every problem as FILE:LINE:COL.

    Exits 0 when the dataset is valid, 1 when it has problems, 2 on misuse.

    Example:

    \b
        belarus-releases validate
        belarus-releases validate --format github
    """
    from belarus_releases.check.dataset import check_dataset  # imported by the commands that check, when they run

    result = check_dataset(_layout(root), cache=not no_cache)
    click.echo(render(result, "json" if as_json else fmt), nl=False, color=_colour())
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
    from belarus_releases.site.workarounds import DatasetteChanged

    layout = _layout(root)
    try:
        if path is None:
            run(layout, host=host, port=port)
            return
        page = fetch(layout, path)
    except (ServeError, DatasetteChanged) as error:
        raise click.ClickException(str(error)) from error
    click.echo(page.text)
    raise SystemExit(1 if page.status >= 400 else 0)


@cli.command()
@root_option
@click.option("--format", "fmt", type=click.Choice(FORMATS), default="text", show_default=True,
              help="How to print problems: text, json or github.")
@click.option("--allow-removals", is_flag=True,
              help="Publish even if events that build/current publishes have no record any more.")
@no_cache_option
def build(root: str, fmt: str, allow_removals: bool, no_cache: bool) -> None:
    """Check the dataset, then publish every output (CSV, JSON, SQLite, datapackage.json) as a new release in
    build/releases/, switching build/current to it in one step.

    Writes nothing unless every check passes; exits 1 with the problems otherwise. Plain `datasette`
    from this environment serves the result with the same security headers, SQL limits and fixes as
    `belarus-releases serve`: the package is a Datasette plugin.

    Example:

    \b
        belarus-releases build
        datasette build/current/belarus-releases.db -m metadata.yml
    """
    from belarus_releases.export.database_job import started_early

    layout = _layout(root)
    with started_early():  # the database process starts while the build is imported (validate needs neither)
        from belarus_releases.export.build import STEPS, build_dataset

        with progress_bar(STEPS, fmt) as progress:  # on a terminal's stderr only, for text output
            result = build_dataset(layout, allow_removals=allow_removals, cache=not no_cache, progress=progress)
    if not result.ok or result.release is None:
        click.echo(render(replace(result.check, problems=result.problems), fmt), nl=False, color=_colour())
        raise SystemExit(1)
    click.echo(f"Built {len(result.rows)} tables ({sum(result.rows.values()):,} rows) into "
               f"{layout.relative(result.release)}/; {layout.relative(layout.current)} points to it.")


@cli.command()
@click.argument("target", type=click.Path(path_type=Path))
@root_option
def publish(target: Path, root: str) -> None:
    """Prepare TARGET, a new folder from which a container host (Cloud Run, Fly) serves the live release.

    It holds a copy of build/current's release, metadata.yml, this package's wheel, the runtime part of
    requirements.lock, a Dockerfile, fly.toml and serve.sh: the same site, settings and limits as
    `belarus-releases serve`. Refuses when nothing is built or TARGET is not empty.

    Example:

    \b
        belarus-releases publish deploy/
        cd deploy && gcloud run deploy belarus-releases --source .
    """
    from belarus_releases.site.deploy import DeployError, prepare_deployment

    try:
        deployment = prepare_deployment(_layout(root), target)
    except DeployError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Wrote {target}/ to serve release {deployment.contents.release} ({len(deployment.packages)} locked "
               f"packages). Next, from {target}/ (see its DEPLOY.md):\n"
               "  gcloud run deploy belarus-releases --source . --allow-unauthenticated   # Google Cloud Run\n"
               "  fly launch --copy-config --no-deploy && fly deploy                      # Fly.io")


def _interactive() -> bool:
    return sys.stdin.isatty()


def _asked(value: str | None, option: str, question: str) -> str:
    """The option's value, or the answer to a question when run in a terminal."""
    if value:
        return value
    if not _interactive():
        raise click.UsageError(f"give {option} (or run the command in a terminal to be asked)")
    return str(click.prompt(question))


@cli.command()
@root_option
@click.option("--date", "date_text", metavar="DATE", help="The event's date: YYYY-MM-DD, YYYY-MM or YYYY (sets the precision).")
@click.option("--slug", metavar="SLUG", help="A few words for the id, lower case with hyphens: coale-visits-minsk.")
def new(root: str, date_text: str | None, slug: str | None) -> None:
    """Start a record: write records/DATE-SLUG.yml with every required field and a hint for each.

    Asks for the date and slug when run in a terminal without them. Refuses an id that already exists.

    Example:

    \b
        belarus-releases new --date 2025-09-11 --slug coale-visits-minsk
    """
    from belarus_releases.scaffold import ScaffoldError, new_record, parse_date

    layout = _layout(root)
    try:
        date = parse_date(_asked(date_text, "--date", "Date of the event (YYYY-MM-DD, YYYY-MM or YYYY)"))
        path = new_record(layout, date, _asked(slug, "--slug", "Slug (a few words, lower case with hyphens)"))
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Created {layout.relative(path)}: fill in the blanks, then run `belarus-releases validate`.")


@cli.command("add-source")
@root_option
@click.argument("document", type=click.Path(dir_okay=False, path_type=Path))
@click.option("--title", required=True, help="Its headline in the original language, or a short English description.")
@click.option("--language", required=True, type=click.Choice(["ru", "uk", "be", "en"]), help="The language of the text.")
@click.option("--url", help="Where it was read (http or https).")
@click.option("--outlet", help="The outlet that published this text, as the text names it.")
@click.option("--original-reporter", help="The original reporter the story comes from, for example Reuters.")
@click.option("--published", help="Publication date when the text gives it: YYYY, YYYY-MM or YYYY-MM-DD.")
@click.option("--retrieved", default=lambda: dt.date.today().isoformat(), show_default="today",
              help="The day the text was copied: YYYY-MM-DD.")
def add_source(root: str, document: Path, title: str, language: str, url: str | None, outlet: str | None,
               original_reporter: str | None, published: str | None, retrieved: str | None) -> None:
    """Copy a document into sources/ as NNN_<16 hex digits of its SHA-256>.txt and list it in registry/sources.yml.

    The document must be UTF-8 text without hidden characters, as `validate` reads sources.

    Example:

    \b
        belarus-releases add-source article.txt --language ru --title "Лукашенко помиловал 52 человека" \\
            --url https://example.org/article --outlet Example.org
    """
    from belarus_releases.scaffold import ScaffoldError, SourceFacts
    from belarus_releases.scaffold import add_source as add

    try:
        facts = SourceFacts(title, language, url, outlet, original_reporter, published, retrieved)
        name = add(_layout(root), document, facts)
    except ScaffoldError as error:
        raise click.ClickException(str(error)) from error
    click.echo(f"Added sources/{name} and its entry in registry/sources.yml; cite it from a record as `file: {name}`.")


@cli.command()
@click.argument("base")
@click.argument("head", required=False)
@root_option
@click.option("--format", "fmt", type=click.Choice(DIFF_FORMATS), default="text", show_default=True,
              help="text for a terminal, markdown for a pull-request comment, json for programs.")
def diff(base: str, head: str | None, root: str, fmt: str) -> None:
    """Show what a change does to the published tables: rows added, removed and changed, by primary key.

    Compares git revision BASE with revision HEAD, or with the working tree (uncommitted and untracked files
    included) when HEAD is left out. Revisions are read from git without touching the working tree.
    A side that does not validate publishes nothing, so it is reported with its first problems instead of a diff.

    Exits 0 when the tables were compared (changed or not), 1 when a side does not validate, 2 on misuse
    (not a git repository, unknown revision, git not installed).

    Example:

    \b
        belarus-releases diff main
        belarus-releases diff main HEAD --format markdown > comment.md
    """
    from belarus_releases.diff import DiffError, diff_revisions  # the check and the flattening: when they run
    from belarus_releases.diff_report import render_diff

    layout = _layout(root)
    try:
        result = diff_revisions(layout.root, base, head)
    except DiffError as error:
        raise click.UsageError(str(error)) from error
    click.echo(render_diff(result, fmt), nl=False)
    raise SystemExit(0 if result.comparable else 1)
