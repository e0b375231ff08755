"""Regenerate the teacher guide's illustrations from the bundled demo.

Writes, from the demo's grading output (``python -m autograder demo``, i.e.
``make demo``: the examples of ``examples/`` graded into ``out/demo/``):

- ``docs/images/report.png``: a screenshot of ``report.html`` taken by headless
  Chromium (``--window-size=1280,2000``);
- ``docs/examples/feedback-debutant.md``: the feedback file of the beginner
  example ``sans-relu-finale`` (the ReLU after the addition forgotten), as the
  engine wrote it.

The demo grades every example with the hidden checks and the grader's own
training (a few minutes on two cores): an existing ``out/demo/`` is reused
unless ``--regrade`` is given.

Usage::

    .venv/bin/python scripts/make_doc_examples.py [--regrade] [--out out/demo]
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
import tempfile
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
sys.path.insert(0, str(ROOT))

#: The beginner example whose feedback the guide shows.
BEGINNER = "sans-relu-finale"
IMAGE = ROOT / "docs" / "images" / "report.png"
FEEDBACK = ROOT / "docs" / "examples" / "feedback-debutant.md"
WINDOW = "1280,2000"


def chromium() -> str:
    """The headless browser's command."""
    for name in ("chromium", "chromium-browser", "google-chrome", "chrome"):
        path = shutil.which(name)
        if path:
            return path
    raise SystemExit("make_doc_examples: Chromium introuvable (chromium, chromium-browser)")


def screenshot(report: Path, image: Path) -> Path:
    """A PNG of ``report`` as a 1280-pixel-wide window shows it (headless Chromium)."""
    image.parent.mkdir(parents=True, exist_ok=True)
    with tempfile.TemporaryDirectory(prefix="chromium-") as profile:
        cmd = [
            chromium(),
            "--headless",
            "--disable-gpu",
            "--hide-scrollbars",
            "--no-first-run",
            "--no-sandbox",  # containers and CI run as root
            f"--user-data-dir={profile}",
            f"--window-size={WINDOW}",
            f"--screenshot={image}",
            report.resolve().as_uri(),
        ]
        proc = subprocess.run(cmd, capture_output=True, text=True, timeout=180)
    if proc.returncode != 0 or not image.is_file() or image.stat().st_size == 0:
        raise SystemExit(f"make_doc_examples: capture impossible :\n{proc.stderr[-2000:]}")
    return image


def main(argv=None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--out", default=str(ROOT / "out" / "demo"), help="the demo's output")
    parser.add_argument("--regrade", action="store_true", help="run the demo first")
    args = parser.parse_args(argv)
    out = Path(args.out)
    if args.regrade or not (out / "report.html").is_file():
        from autograder.demo import run_demo

        run_demo(out_dir=out, extra_args=["--jobs", "1"])  # one submission at a time
    feedback = out / "feedback" / f"{BEGINNER}.md"
    if not feedback.is_file():
        raise SystemExit(f"make_doc_examples: {feedback} introuvable : relancez avec --regrade")
    FEEDBACK.parent.mkdir(parents=True, exist_ok=True)
    shutil.copyfile(feedback, FEEDBACK)
    screenshot(out / "report.html", IMAGE)
    print(f"{IMAGE.relative_to(ROOT)}\n{FEEDBACK.relative_to(ROOT)}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
