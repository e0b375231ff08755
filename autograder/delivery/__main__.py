"""``python -m autograder.delivery``: see :mod:`autograder.delivery.cli`."""

import sys

from autograder.delivery.cli import main

sys.exit(main())
