"""``python -m solutions.experiment …``: see :mod:`solutions.experiment`."""

import sys

from solutions.experiment.cli import main

if __name__ == "__main__":
    sys.exit(main())
