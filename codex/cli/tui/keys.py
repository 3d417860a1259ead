"""Raw terminal input -> key events.

The terminal sends bytes: printable UTF-8, control characters (Ctrl-C is 0x03 because raw mode
turns signals off), escape sequences for arrows and friends (``ESC [ A``), and with bracketed
paste enabled, pasted text wrapped in ``ESC [ 200 ~`` ... ``ESC [ 201 ~`` so a paste with
newlines is never mistaken for typed Enter. A lone ESC is ambiguous (the start of a sequence or
the Esc key); the decoder keeps it until more bytes come or ``flush`` is called after a pause.
"""

from __future__ import annotations

import codecs
from dataclasses import dataclass

PASTE_START = "\x1b[200~"
PASTE_END = "\x1b[201~"

_CSI_FINAL = {"A": "up", "B": "down", "C": "right", "D": "left", "H": "home", "F": "end", "Z": "shift-tab"}
_TILDE = {"1": "home", "7": "home", "4": "end", "8": "end", "3": "delete", "2": "insert", "5": "page-up",
          "6": "page-down"}
_CONTROL = {"\r": "enter", "\n": "newline", "\t": "tab", "\x7f": "backspace", "\x08": "backspace"}


@dataclass(frozen=True, slots=True)
class Key:
    """One key press: ``name`` is ``char`` (with ``text``), ``paste`` (with ``text``), or a key
    name such as ``enter``, ``newline``, ``left``, ``ctrl-c``, ``esc``; ``alt`` for Alt/Meta and
    ``ctrl`` for Ctrl-modified arrows."""

    name: str
    text: str = ""
    alt: bool = False
    ctrl: bool = False


class KeyDecoder:
    """Turns chunks of bytes, as read from the terminal, into ``Key`` events."""

    def __init__(self) -> None:
        self._decoder = codecs.getincrementaldecoder("utf-8")(errors="replace")
        self._pending = ""
        self._paste: list[str] | None = None

    @property
    def waiting(self) -> bool:
        """True when a lone ESC (or a partial sequence) waits for more bytes or a ``flush``."""
        return bool(self._pending) and self._paste is None

    def feed(self, data: bytes) -> list[Key]:
        """Decode ``data``; incomplete sequences are kept for the next call."""
        self._pending += self._decoder.decode(data)
        keys: list[Key] = []
        while self._pending:
            if self._paste is not None:
                if not self._read_paste(keys):
                    break
                continue
            consumed = self._read_one(self._pending, keys)
            if consumed == 0:
                break
            self._pending = self._pending[consumed:]
        return keys

    def flush(self) -> list[Key]:
        """After a pause in input: a kept ESC is the Esc key, a cut-off sequence is dropped."""
        if self._paste is not None or not self._pending:
            return []
        pending, self._pending = self._pending, ""
        if pending == "\x1b":
            return [Key("esc")]
        keys: list[Key] = []
        if pending.startswith("\x1b"):
            keys.append(Key("esc"))
            pending = pending[1:]
        for char in pending:
            if char >= " ":
                keys.append(Key("char", char))
        return keys

    def _read_paste(self, keys: list[Key]) -> bool:
        assert self._paste is not None
        end = self._pending.find(PASTE_END)
        if end < 0:
            # Keep a possible partial end marker for the next chunk.
            keep = next((n for n in range(len(PASTE_END) - 1, 0, -1) if self._pending.endswith(PASTE_END[:n])), 0)
            cut = len(self._pending) - keep
            self._paste.append(self._pending[:cut])
            self._pending = self._pending[cut:]
            return False
        self._paste.append(self._pending[:end])
        self._pending = self._pending[end + len(PASTE_END) :]
        text = "".join(self._paste).replace("\r\n", "\n").replace("\r", "\n")
        self._paste = None
        keys.append(Key("paste", text))
        return True

    def _read_one(self, buf: str, keys: list[Key]) -> int:
        """Decode one key from the start of ``buf``; 0 means it is incomplete."""
        char = buf[0]
        if char != "\x1b":
            if char in _CONTROL:
                keys.append(Key(_CONTROL[char]))
            elif char < " ":
                if char != "\x00":
                    keys.append(Key("ctrl-" + chr(ord(char) + 96)))
            else:
                keys.append(Key("char", char))
            return 1
        if len(buf) == 1:
            return 0
        second = buf[1]
        if second == "[":
            return self._read_csi(buf, keys)
        if second == "O":
            if len(buf) < 3:
                return 0
            name = _CSI_FINAL.get(buf[2])
            if name:
                keys.append(Key(name))
            return 3
        if second in "\r\n":
            keys.append(Key("newline", alt=True))
            return 2
        if second in "\x7f\x08":
            keys.append(Key("backspace", alt=True))
            return 2
        if second == "\x1b":
            keys.append(Key("esc"))
            return 1
        if second >= " ":
            keys.append(Key("char", second, alt=True))
            return 2
        keys.append(Key("esc"))
        return 1

    def _read_csi(self, buf: str, keys: list[Key]) -> int:
        end = 2
        while end < len(buf) and not ("@" <= buf[end] <= "~"):
            end += 1
        if end >= len(buf):
            return 0
        params, final = buf[2:end], buf[end]
        length = end + 1
        if final == "~" and params == "200":
            self._paste = []
            return length
        fields = params.split(";")
        modifier = int(fields[1]) - 1 if len(fields) > 1 and fields[1].isdigit() else 0
        alt, ctrl = bool(modifier & 2), bool(modifier & 4)
        if final in _CSI_FINAL:
            keys.append(Key(_CSI_FINAL[final], alt=alt, ctrl=ctrl))
        elif final == "~":
            if fields[0] == "27" and len(fields) == 3 and fields[2] == "13":
                keys.append(Key("newline"))  # xterm modifyOtherKeys: Shift/Ctrl+Enter
            elif fields[0] in _TILDE:
                keys.append(Key(_TILDE[fields[0]], alt=alt, ctrl=ctrl))
        elif final == "u" and fields[0] == "13":
            keys.append(Key("newline" if modifier else "enter"))  # kitty keyboard protocol
        return length
