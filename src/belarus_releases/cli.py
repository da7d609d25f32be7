"""The command line: each command is a few lines around one library call."""

from __future__ import annotations

from pathlib import Path

import click

from . import __version__
from .check import check_dataset
from .layout import Layout
from .report import FORMATS, render


def _layout(root: str) -> Layout:
    layout = Layout(Path(root).resolve())
    if not layout.records.is_dir():
        raise click.UsageError(f"{root} is not a dataset repository (it has no records/ folder); run this from the repository's top folder")
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
