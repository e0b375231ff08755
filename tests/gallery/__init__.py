"""Gallery of submissions with golden per-check outcomes.

Each case is ``cases/<case_id>.py``: a first comment line (description), then
cells separated by ``# %%`` lines (``# %% [markdown]`` for markdown cells).
Special markers:

- ``# include: <part>`` (a whole line) is replaced by ``parts/<part>.py``;
- ``# %% [template]``: use ``student_template/resnet_a_la_main.ipynb`` when it
  exists (the cells that follow are the fallback);
- ``# %% [raw-notebook]``: the notebook file is this raw text (invalid JSON case);
- ``# %% [file <relative path>]``: an extra file written beside the notebook.

``golden.json`` gives, per case, the expected status and the checks expected
to FAIL (every other registered automatic check is expected to pass).

API (stable, used by the engine's tests)::

    build_gallery(dest_dir) -> {case_id: Path of dest_dir/<case_id>/resnet_a_la_main.ipynb}
    load_golden() -> {case_id: {"status", "description", "isolate", "checks": {check_id: bool}}}
    case_ids() -> [case_id, ...]
    notebook_code(path) -> [code of each code cell]
"""

from __future__ import annotations

import json
import re
from pathlib import Path

HERE = Path(__file__).resolve().parent
CASES = HERE / "cases"
PARTS = HERE / "parts"
ROOT = HERE.parents[1]
TEMPLATE = ROOT / "student_template" / "resnet_a_la_main.ipynb"
NOTEBOOK = "resnet_a_la_main.ipynb"

#: every automatic check id, in the order of the golden file
CHECK_IDS = [
    "q1.shape",
    "q1.order",
    "q1.kwargs",
    "q1.sequence",
    "q1.shortcut",
    "q1.numeric",
    "q2.output",
    "q2.params",
    "q2.blocks",
    "q2.accuracy",
    "q3.output",
    "q3.no_skip",
    "q3.accuracy",
]

_MARK = re.compile(r"^# %%(?:\s*\[(?P<tag>[^\]]*)\])?\s*$")
_INCLUDE = re.compile(r"^# include: (?P<part>\w+)\s*$")


def case_ids() -> list[str]:
    """Ids of every case, sorted."""
    return sorted(p.stem for p in CASES.glob("*.py"))


def parse_case(case_id: str) -> dict:
    """Cells, extra files and flags of one case."""
    lines = (CASES / f"{case_id}.py").read_text(encoding="utf-8").splitlines()
    description = lines[0].lstrip("# ").strip() if lines else ""
    sections = []  # (tag, [lines])
    for line in lines[1:]:
        m = _MARK.match(line)
        if m:
            sections.append((m.group("tag") or "code", []))
        elif sections:
            inc = _INCLUDE.match(line)
            if inc:
                sections[-1][1].extend(
                    (PARTS / f"{inc.group('part')}.py").read_text(encoding="utf-8").splitlines()
                )
            else:
                sections[-1][1].append(line)
    case = {
        "id": case_id,
        "description": description,
        "cells": [],
        "files": {},
        "raw": None,
        "template": False,
    }
    for tag, body in sections:
        text = "\n".join(body).strip("\n")
        if tag == "code":
            case["cells"].append(("code", text))
        elif tag == "markdown":
            case["cells"].append(
                (
                    "markdown",
                    "\n".join(l[2:] if l.startswith("# ") else l.lstrip("#") for l in body).strip(),
                )
            )
        elif tag == "template":
            case["template"] = True
        elif tag == "raw-notebook":
            case["raw"] = text + "\n"
        elif tag.startswith("file "):
            case["files"][tag[5:].strip()] = text + "\n"
    return case


def _notebook_json(cells) -> str:
    import nbformat

    nb = nbformat.v4.new_notebook()
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    for kind, text in cells:
        nb.cells.append(
            nbformat.v4.new_code_cell(text)
            if kind == "code"
            else nbformat.v4.new_markdown_cell(text)
        )
    return nbformat.writes(nb)


def build_gallery(dest_dir) -> dict[str, Path]:
    """Materialise every case as ``dest_dir/<case_id>/resnet_a_la_main.ipynb`` (+ extra files).

    Args:
        dest_dir: destination directory (created).

    Returns:
        ``{case_id: notebook path}``.
    """
    dest_dir = Path(dest_dir)
    out = {}
    for cid in case_ids():
        case = parse_case(cid)
        folder = dest_dir / cid
        folder.mkdir(parents=True, exist_ok=True)
        path = folder / NOTEBOOK
        if case["raw"] is not None:
            path.write_text(case["raw"], encoding="utf-8")
        elif case["template"] and TEMPLATE.is_file():
            path.write_bytes(TEMPLATE.read_bytes())
        else:
            path.write_text(_notebook_json(case["cells"]), encoding="utf-8")
        for rel, text in case["files"].items():
            target = folder / rel
            target.parent.mkdir(parents=True, exist_ok=True)
            target.write_text(text, encoding="utf-8")
        out[cid] = path
    return out


def load_golden() -> dict:
    """Golden outcomes: ``{case_id: {"status", "description", "isolate", "checks"}}``.

    ``checks`` maps every automatic check id to the expected ``passed`` value
    (empty when the status is not ``"graded"``).
    """
    raw = json.loads((HERE / "golden.json").read_text(encoding="utf-8"))
    out = {}
    for cid, entry in raw["cases"].items():
        status = entry.get("status", "graded")
        fails = set(entry.get("fail", []))
        unknown = fails - set(CHECK_IDS)
        if unknown:
            raise ValueError(f"{cid}: unknown check ids {sorted(unknown)}")
        checks = {c: c not in fails for c in CHECK_IDS} if status == "graded" else {}
        out[cid] = {
            "status": status,
            "description": parse_case(cid)["description"],
            "isolate": bool(entry.get("isolate", False)),
            "checks": checks,
            "why": entry.get("why", ""),
        }
    return out


def notebook_code(path) -> list[str]:
    """Source of each code cell of a notebook (raises ValueError if not a notebook)."""
    data = json.loads(Path(path).read_text(encoding="utf-8"))
    cells = data.get("cells", [])
    code = []
    for cell in cells:
        if cell.get("cell_type") == "code":
            src = cell.get("source", "")
            code.append("".join(src) if isinstance(src, list) else src)
    return code
