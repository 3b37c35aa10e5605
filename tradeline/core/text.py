"""Free text from outside: which characters a name or a note may hold, and how text leaves us
safely in a spreadsheet cell or a download's file name.

- `control_characters(value)`: the control characters in a value (C0, DEL, C1, the Unicode line
  and paragraph separators and the bidirectional overrides, which can disguise what a name says).
  Notes may keep newlines and tabs (`multiline=True`). Input schemas refuse such values (422).
- `csv_cell(value)`: a cell a spreadsheet will show as text, never run as a formula (a text
  starting with = + - @ tab or CR gets a leading apostrophe; plain numbers such as "-12.50" stay).
- `download_filename(*parts, ext)`: a file name of ASCII letters, digits, dot, dash and underscore
  only, for a `Content-Disposition` header (a newline or a quote in a broker's name cannot break it).
"""

import csv
import io
import re
from collections.abc import Iterable

_CONTROL = "\x00-\x08\x0b\x0c\x0e-\x1f\x7f-\x9f\u2028\u2029\u202a-\u202e\u2066-\u2069"
_CONTROL_ANY = re.compile(f"[{_CONTROL}\t\n\r]")
_CONTROL_MULTILINE = re.compile(f"[{_CONTROL}]")

FORMULA_STARTS = ("=", "+", "-", "@", "\t", "\r")
_PLAIN_NUMBER = re.compile(r"-?\d+(\.\d+)?")
_UNSAFE_IN_FILENAME = re.compile(r"[^A-Za-z0-9._-]+")


def control_characters(value: str, *, multiline: bool = False) -> list[str]:
    """The control characters found in `value`, as escapes like '\\n' or '\\u202e' (empty: clean)."""
    pattern = _CONTROL_MULTILINE if multiline else _CONTROL_ANY
    return sorted({char.encode("unicode_escape").decode("ascii") for char in pattern.findall(value)})


def csv_cell(value) -> str:
    """One CSV cell as text that no spreadsheet evaluates (OWASP's CSV injection advice)."""
    text = "" if value is None else str(value)
    if text.startswith(FORMULA_STARTS) and not _PLAIN_NUMBER.fullmatch(text):
        return "'" + text
    return text


def csv_text(rows: Iterable[Iterable], *, lineterminator: str = "\n") -> str:
    """Rows as CSV text, every cell through csv_cell. The one CSV writer of every export."""
    out = io.StringIO()
    writer = csv.writer(out, lineterminator=lineterminator)
    for row in rows:
        writer.writerow([csv_cell(cell) for cell in row])
    return out.getvalue()


def download_filename(*parts, ext: str) -> str:
    """`payout-2026-11-acme-ltd.csv` from ("payout", "2026-11", "Acme Ltd"): safe characters only."""
    pieces = [_UNSAFE_IN_FILENAME.sub("-", str(part)).strip("-._").lower() for part in parts]
    stem = "-".join(piece for piece in pieces if piece)[:120].strip("-._") or "download"
    return f"{stem}.{_UNSAFE_IN_FILENAME.sub('', ext) or 'bin'}"


def attachment_header(*parts, ext: str) -> str:
    """The Content-Disposition value for a download named from `parts` (see download_filename)."""
    return f'attachment; filename="{download_filename(*parts, ext=ext)}"'
