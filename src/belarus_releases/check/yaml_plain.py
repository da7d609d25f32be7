"""Check, read YAML fast: the data of a file that nothing is wrong with, built without positions.

Most files have no problem at all, and then no position is ever asked for (a compact check drops them anyway).
So a file is first read by the line reader (yaml_lines.py), which takes the block layout records are written in,
then, when it gives up, by one flat loop over libyaml's events that builds only the data, without a path or a
position for any value; anything the reference reader (yaml_events.py) would report or refuse makes this loop give
up (`Unusual`), and that reader then reads the file. Giving up is always safe: the reference decides. So this
module never words a problem, and its data is the reference's whenever it finishes (tests/test_yaml_plain.py).
"""

from __future__ import annotations

import unicodedata
from contextlib import suppress
from sys import intern
from typing import Any

import yaml

from belarus_releases.check.yaml_events import MAX_DEPTH, MAX_ITEMS
from belarus_releases.check.yaml_lines import Unusual, lines_data, taken_scalar

__all__ = ["Unusual", "events_data", "plain_data"]

_Scalar, _MappingStart, _SequenceStart = yaml.ScalarEvent, yaml.MappingStartEvent, yaml.SequenceStartEvent
_Ends = (yaml.MappingEndEvent, yaml.SequenceEndEvent)
_StreamEnd, _DocumentEnd = yaml.StreamEndEvent, yaml.DocumentEndEvent
_NO_KEY = object()  # a mapping waiting for its next key


def plain_data(text: str, loader: type) -> tuple[Any, list[str]]:
    """The data the reference reader builds from `text` when it finds no problem, and every text value in it (not
    the keys), in the order they stand; raises Unusual otherwise (and whenever the parser gives up). No list is
    counted: the line reader takes no list that can be that long (so it takes a registry of thousands of entries),
    and the loop only files of at most MAX_ITEMS characters (each item takes at least one)."""
    with suppress(Unusual):
        return lines_data(text)
    if len(text) > MAX_ITEMS:
        raise Unusual
    return events_data(text, loader)


def events_data(text: str, loader: type) -> tuple[Any, list[str]]:
    """What plain_data gives, read by the loop over libyaml's events alone."""
    parser = loader(text)
    texts: list[str] = []
    try:
        return _data(parser.get_event, texts), texts
    except yaml.YAMLError as error:
        raise Unusual from error
    finally:
        parser.dispose()


def _data(next_event: Any, texts: list[str]) -> Any:
    next_event()  # the stream's start
    if type(next_event()) is _StreamEnd:
        return None  # no document: the reference reports the empty file
    root: list[Any] = []
    stack: list[Any] = [root]  # the open lists and mappings, innermost last; `root` holds the document's node
    key: Any = _NO_KEY  # the key waiting for its value, when the innermost is a mapping
    while True:
        event = next_event()
        kind = type(event)
        if kind is _Scalar:
            if event.anchor is not None or event.tag is not None:
                raise Unusual
            holder = stack[-1]
            if key is _NO_KEY and type(holder) is dict:
                key = _key(event, holder)
                continue
            value = taken_scalar(event.value, event.style, texts)
        elif kind is _MappingStart or kind is _SequenceStart:
            # the reference refuses a node deeper than MAX_DEPTH; giving up a level early spares a test per scalar
            if event.anchor is not None or event.tag is not None or len(stack) >= MAX_DEPTH:
                raise Unusual
            holder = stack[-1]
            value = {} if kind is _MappingStart else []
            if type(holder) is dict:
                if key is _NO_KEY:
                    raise Unusual  # a list or mapping as a key
                holder[key] = value
                key = _NO_KEY
            else:
                holder.append(value)
            stack.append(value)
            continue
        elif kind in _Ends:
            stack.pop()  # the mapping it was in, if any, waits for its next key: `key` is already _NO_KEY
            continue
        elif kind is _DocumentEnd:
            if type(next_event()) is not _StreamEnd:
                raise Unusual  # a second document
            return root[0] if root else None
        else:
            raise Unusual  # an alias
        holder = stack[-1]
        if type(holder) is dict:
            holder[key] = value
            key = _NO_KEY
        else:
            holder.append(value)


def _key(event: Any, mapping: dict[str, Any]) -> str:
    if event.value == "<<" and not event.style:
        raise Unusual  # a merge key
    key = intern(unicodedata.normalize("NFC", event.value))
    if key in mapping:
        raise Unusual  # a duplicate key
    return key

