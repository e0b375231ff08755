"""``python -m autograder``: see :mod:`autograder.cli`."""

import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

from autograder.cli import main  # noqa: E402

if __name__ == "__main__":
    sys.exit(main())
