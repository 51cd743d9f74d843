"""The streaming JSON reader against json.loads, with chunks small enough to cut every value."""
from __future__ import annotations

import io
import json

import pytest

from bot.report import jsonstream
from bot.report.jsonstream import InputError, JsonStream, iter_array, iter_object

DOC = {"guild": {"id": "1", "name": "Ünïcode ✓"}, "count": 123456789, "messages": [
    {"id": str(i), "content": "x" * (i % 7) + "é\n\"q\"", "n": 10 ** i} for i in range(30)
], "messageCount": 30}


@pytest.fixture(params=[1, 3, 7, 64])
def tiny_chunks(request, monkeypatch):
    monkeypatch.setattr(jsonstream, "CHUNK", request.param)


def test_object_with_streamed_array_matches_json_loads(tiny_chunks):
    raw = json.dumps(DOC, indent=2, ensure_ascii=False).encode()
    got, seen = {}, 0
    for key, value in iter_object(JsonStream(io.BytesIO(b"\xef\xbb\xbf" + raw)), "messages"):
        if key == "messages":
            got[key] = [v for v, _ in value]
        else:
            got[key] = value
        seen += 1
    assert got == DOC and seen == 4


def test_array_elements_carry_their_line(tiny_chunks):
    raw = b'[\n {"a": 1},\n\n {"a": 2}\n]'
    assert list(iter_array(JsonStream(io.BytesIO(raw)))) == [({"a": 1}, 2), ({"a": 2}, 4)]


@pytest.mark.parametrize("raw, message, line", [
    (b'[{"a": 1},\n{"a": "cut', "truncated", 2),
    (b'[{"a": 1},\n{"a": 2}', "never closed", 2),
    (b'[{"a": 1}\n{"a": 2}]', "expected ','", 2),
    (b'[{"a": 1},\n\n{"a": "caf\xe9"}]', "not UTF-8", 3),
    (b'{"a": 1}', "expected a JSON array", 1),
])
def test_errors_name_the_line(tiny_chunks, raw, message, line):
    with pytest.raises(InputError) as err:
        list(iter_array(JsonStream(io.BytesIO(raw))))
    assert message in err.value.message and err.value.line == line
