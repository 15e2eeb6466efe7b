"""``python -m reference.reproduce``: see ``reference.reproduce``.

BLAS reads its thread variables when numpy is first imported, so they are set here, before the
import, unless the caller set them; ``reproduce()`` also limits the threads at run time.
"""

import os
import sys

for _var in ("OPENBLAS_NUM_THREADS", "OMP_NUM_THREADS", "MKL_NUM_THREADS"):
    os.environ.setdefault(_var, "1")

from . import main  # noqa: E402

sys.exit(main())
