"""Reading big JSON documents one element at a time.

A DiscordChatExporter file holds a whole channel's history in one JSON object, and a Slack
day file can be large too; `json.load` would hold all of it in memory at once. The standard
library's `raw_decode` decodes one value from a buffer, so the documents are read in chunks
and each array element is decoded and handed on as soon as it is complete. No third-party
streaming parser is needed for the two shapes the exports use (an array, or an object with
an array under one key).
"""
from __future__ import annotations

import codecs
import json
import zipfile
import zlib
from typing import BinaryIO, Callable, Iterator

CHUNK = 1 << 16
MAX_VALUE = 64 << 20  # one message never needs more; a broken file must not fill memory
_DECODER = json.JSONDecoder()
_SPACE = " \t\r\n"


class InputError(Exception):
    """Why a file could not be read, with the line where reading stopped (1-based)."""

    def __init__(self, message: str, line: int | None = None) -> None:
        super().__init__(message)
        self.message = message
        self.line = line


class JsonStream:
    """A text buffer over a binary stream that decodes UTF-8 strictly and counts lines."""

    def __init__(self, raw: BinaryIO, progress: Callable[[int], None] | None = None) -> None:
        self._raw = raw
        self._progress = progress
        self._decoder = codecs.getincrementaldecoder("utf-8-sig")("strict")
        self.buf = ""
        self.pos = 0
        self._line = 1  # line number at buf[_counted]
        self._counted = 0
        self._eof = False

    def line_at(self, pos: int) -> int:
        """Counted forward from the last position asked about, so that numbering every
        element costs one pass over the text, not one per element."""
        if pos >= self._counted:
            self._line += self.buf.count("\n", self._counted, pos)
        else:
            self._line -= self.buf.count("\n", pos, self._counted)
        self._counted = pos
        return self._line

    def fill(self) -> bool:
        """Read one more chunk; False at the end of the input."""
        if self._eof:
            return False
        try:
            chunk = self._raw.read(CHUNK)
        except (OSError, EOFError, ValueError, zipfile.BadZipFile, zlib.error) as exc:  # CRC mismatch, cut member
            raise InputError(f"cannot read: {_describe(exc)}", self.line_at(len(self.buf))) from None
        if self._progress and chunk:
            self._progress(len(chunk))
        try:
            text = self._decoder.decode(chunk, final=not chunk)
        except UnicodeDecodeError as exc:
            # The bad byte's line: the lines before this chunk, plus those before the byte in it.
            good = chunk[: max(0, exc.start)].decode("utf-8", "replace")
            line = self.line_at(len(self.buf)) + good.count("\n")
            raise InputError(f"not UTF-8 text (byte 0x{exc.object[exc.start]:02x}); save the file as UTF-8", line) from None
        if self.pos > CHUNK:  # drop what has been consumed, so the buffer stays small
            self.line_at(self.pos)
            self.buf = self.buf[self.pos :]
            self._counted = self.pos = 0
        self.buf += text
        if not chunk:
            self._eof = True
        return bool(chunk)

    def skip_space(self) -> str:
        """The next non-space character ('' at the end), without consuming it."""
        while True:
            while self.pos < len(self.buf) and self.buf[self.pos] in _SPACE:
                self.pos += 1
            if self.pos < len(self.buf):
                return self.buf[self.pos]
            if not self.fill():
                return ""

    def expect(self, char: str, what: str) -> None:
        if self.skip_space() != char:
            found = self.buf[self.pos : self.pos + 20] or "the end of the file"
            raise InputError(f"malformed JSON: expected {what}, found {found!r}", self.line_at(self.pos))
        self.pos += 1

    def value(self):
        """Decode the next JSON value and the line it starts on, reading more input until it
        is complete. A value larger than MAX_VALUE is refused rather than buffered."""
        self.skip_space()
        while True:
            try:
                value, end = _DECODER.raw_decode(self.buf, self.pos)
            except json.JSONDecodeError as exc:
                # Incomplete or malformed? Only more input (or its end) can tell.
                if not self._eof and len(self.buf) - self.pos < MAX_VALUE:
                    self.fill()
                    continue
                if self._eof and (exc.pos >= len(self.buf.rstrip()) or exc.msg.startswith("Unterminated")):
                    raise InputError("truncated JSON: the file ends in the middle of a value", self.line_at(exc.pos)) from None
                raise InputError(f"malformed JSON: {exc.msg}", self.line_at(exc.pos)) from None
            if end == len(self.buf) and not self._eof and isinstance(value, (int, float)) and self.fill():
                continue  # a number cut at the chunk edge decodes as a shorter number
            line = self.line_at(self.pos)
            self.pos = end
            return value, line


def iter_array(stream: JsonStream) -> Iterator[tuple[object, int]]:
    """(element, line) for each element of the array starting at the stream's position."""
    stream.expect("[", "a JSON array")
    if stream.skip_space() == "]":
        stream.pos += 1
        return
    while True:
        yield stream.value()
        nxt = stream.skip_space()
        if nxt == ",":
            stream.pos += 1
        elif nxt == "]":
            stream.pos += 1
            return
        elif not nxt:
            raise InputError("truncated JSON: the array is never closed", stream.line_at(stream.pos))
        else:
            raise InputError(f"malformed JSON: expected ',' or ']', found {nxt!r}", stream.line_at(stream.pos))


def iter_object(stream: JsonStream, streamed: str) -> Iterator[tuple[str, object]]:
    """(key, value) for a top-level object; the array under `streamed` is yielded as an
    iterator of (element, line) that must be consumed before the next key is read."""
    stream.expect("{", "a JSON object")
    if stream.skip_space() == "}":
        return
    while True:
        key, _ = stream.value()
        if not isinstance(key, str):
            raise InputError("malformed JSON: object key is not a string", stream.line_at(stream.pos))
        stream.expect(":", "':'")
        if key == streamed and stream.skip_space() == "[":
            yield key, iter_array(stream)
        else:
            yield key, stream.value()[0]
        nxt = stream.skip_space()
        if nxt == ",":
            stream.pos += 1
        elif nxt == "}":
            return
        elif not nxt:
            raise InputError("truncated JSON: the object is never closed", stream.line_at(stream.pos))
        else:
            raise InputError(f"malformed JSON: expected ',' or '}}', found {nxt!r}", stream.line_at(stream.pos))


def _describe(exc: BaseException) -> str:
    text = str(exc) or type(exc).__name__
    return text[0].lower() + text[1:] if text else text
