"""The event builder clamps positions into the file as it records them (yaml_events.py): every position a Loaded
holds stands inside the file, whichever parser read it, even where the parser points past the end (an empty
value or key on a last line without a newline), and a problem found there is located inside the file too."""

from __future__ import annotations

import pytest
import yaml

from belarus_releases.check import yaml_reader
from belarus_releases.check.characters import LineIndex
from belarus_releases.check.yaml_reader import load_bytes

AT_THE_END = ["a: 1\nb:", "a: 1\n? ", "a: 1\n? b", "a:\n  - x\n  -", "a: 1\nb: Кoул", "a: 1\nb: 'Кoул'", "a: 1\nb: |\n  Кoул",
              "a: 1\n? b\n? b", "a: =x", "a: [x,\n  ]", "a: 1\nb: {c: }"]


@pytest.mark.parametrize("text", AT_THE_END)
@pytest.mark.parametrize("loader", ["libyaml", "python"])
def test_every_position_stands_inside_the_file(text: str, loader: str, monkeypatch: pytest.MonkeyPatch) -> None:
    if loader == "python":
        monkeypatch.setattr(yaml_reader, "Loader", yaml.SafeLoader)
    loaded = load_bytes(text.encode(), "records/x.yml")
    index = LineIndex(text)
    places = [*loaded.values.values(), *loaded.keys.values(), *loaded.ends.values(),
              *((problem.line, problem.col) for problem in loaded.problems)]
    assert places
    for place in places:
        assert index.clamp(*place) == place, (text, place)
