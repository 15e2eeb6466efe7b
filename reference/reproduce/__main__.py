"""``python -m reference.reproduce``: see :mod:`reference.reproduce`."""

import sys

from . import main

sys.exit(main())
