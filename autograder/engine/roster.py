"""Rosters: the expected student ids, from whatever file the teacher has.

A roster's ids must match the ids :mod:`autograder.engine.discovery` gives the
cloned repositories (the GitHub login, the repository's suffix), or every
student appears twice in grades.csv: graded under the repository's id, and
"missing" under the roster's.
"""

from __future__ import annotations

import csv
from pathlib import Path

from autograder.engine.discovery import sanitize_id

#: Roster columns that hold the student's GitHub login (= the repository suffix), by priority.
ROSTER_LOGIN_KEYS = (
    "github_username",
    "login",
    "username",
    "github",
    "github_login",
    "id",
    "student",
    "student_id",
    "identifier",
    "email",
)
#: Classroom 50 roster roles that are not students.
ROSTER_STAFF_ROLES = frozenset({"teacher", "ta", "instructor", "staff"})


def _rows(path: Path) -> list[list[str]]:
    """The non-blank rows of a CSV file, its dialect sniffed (``,``, ``;`` or tab)."""
    with open(path, encoding="utf-8-sig", newline="") as fh:
        sample = fh.read(4096)
        fh.seek(0)
        try:
            dialect = csv.Sniffer().sniff(sample, delimiters=",;\t")
        except csv.Error:
            dialect = csv.excel
        return [row for row in csv.reader(fh, dialect) if any(c.strip() for c in row)]


def _cell(text: str) -> str:
    """A cell as typed: spaces and a spreadsheet's formula-defanging quote removed."""
    text = text.strip()
    return text[1:] if text[:1] == "'" and text[1:2] in "=+-@" and len(text) > 1 else text


def _login_of(value: str) -> str:
    """The id an e-mail or a login gives (an e-mail keeps its local part)."""
    return value.split("@", 1)[0] if "@" in value else value


def read_roster(path: Path) -> list[str]:
    """Student ids from a roster file, whatever its format.

    Formats, told apart by the header (case-insensitive):

    - GitHub Classroom's export, ``identifier,github_username,github_id,name``:
      the id is ``github_username`` (what the repository names end with), or
      the identifier when the student never linked a GitHub account;
    - Classroom 50's ``roster.csv``, ``username,first_name,last_name,email,
      section,github_id,role``: the id is ``username`` (or the e-mail's local part
      for an e-mail-only invitation); teacher and TA rows are skipped;
    - any CSV with one of the columns of :data:`ROSTER_LOGIN_KEYS` (first found wins);
    - a plain list, one login per line, without a header;
    - any other CSV with a header: its first column.

    Args:
        path: the roster file.

    Returns:
        Sanitised ids in file order, without duplicates or blanks.
    """
    rows = _rows(path)
    if not rows:
        return []
    header = [_cell(h).lower() for h in rows[0]]
    key = next((k for k in ROSTER_LOGIN_KEYS if k in header), None)
    fallbacks: list[int] = []
    if key is None and len(rows[0]) == 1:
        body, col = rows, 0  # a plain list of logins, no header
    elif key is None:
        body, col = rows[1:], 0  # an unknown header: its first column
    else:
        body, col = rows[1:], header.index(key)
        fallbacks = [
            header.index(k) for k in ROSTER_LOGIN_KEYS if k in header and header.index(k) != col
        ]
    role = header.index("role") if key is not None and "role" in header else None
    ids: list[str] = []
    for row in body:
        if role is not None and len(row) > role and _cell(row[role]).lower() in ROSTER_STAFF_ROLES:
            continue
        value = _cell(row[col]) if len(row) > col else ""
        for fb in fallbacks:
            if value:
                break
            value = _cell(row[fb]) if len(row) > fb else ""
        if not value:
            continue
        sid = sanitize_id(_login_of(value))
        if sid not in ids:
            ids.append(sid)
    return ids
