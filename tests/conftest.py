"""Shared test configuration: quiet TensorFlow, repository root on sys.path."""

import os
import sys
from pathlib import Path

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")
ROOT = Path(__file__).resolve().parents[1]
if str(ROOT) not in sys.path:
    sys.path.insert(0, str(ROOT))

# The teacher's side: the check library with its hidden checks registered, as the
# grading engine, the otter zip and assign see it (a student repository never has them).
import autograder.hidden  # noqa: E402,F401
