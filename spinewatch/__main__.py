"""``python -m spinewatch``: the same as the ``spinewatch`` command."""

import sys

from spinewatch.cli import main

sys.exit(main())
