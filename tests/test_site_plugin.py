"""metadata.yml: what serving would refuse, validate and build refuse first, each entry located."""

from __future__ import annotations

from click.testing import CliRunner

from belarus_releases.cli import cli
from belarus_releases.export.build import build_dataset
from belarus_releases.layout import Layout
from served import DATABASE

# Metadata that serving would refuse is refused by validate and build first


def test_html_and_script_links_in_metadata_are_refused_by_validate_and_build(repo: Layout) -> None:
    text = repo.metadata.read_text(encoding="utf-8")
    for old, new in [("\nlicense_url: https://", "\nlicense_url: javascript:alert(1)//"),
                     ("\n    description: >-\n      Events,", "\n    description_html: >-\n      Events,")]:
        assert old in text
        text = text.replace(old, new, 1)
    repo.metadata.write_text(text, encoding="utf-8")
    link, html = (text[:text.index(key)].count("\n") + 2 for key in ("\nlicense_url:", "\n    description_html:"))
    expected = [
        f"metadata.yml:{link}:14: [metadata-invalid] license_url: a link must start with https:// or http://",
        f"metadata.yml:{html}:5: [metadata-invalid] databases.{DATABASE}.description_html: Datasette shows *_html "
        "values as raw HTML; write plain text under 'description' instead",
    ]
    files = len(list(repo.records.glob("*.yml"))) + 3
    result = CliRunner().invoke(cli, ["validate", "--root", str(repo.root)])
    assert (result.exit_code, result.output) == (1, "\n".join([*expected, f"2 problems in 1 of {files} files.", ""]))
    built = build_dataset(repo)
    assert [problem.to_text() for problem in built.problems] == expected
    assert not repo.build.exists()
