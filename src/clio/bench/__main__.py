"""``python -m clio.bench``: the same as ``clio-bench``."""

import sys

from clio.bench.cli import main

sys.exit(main())
