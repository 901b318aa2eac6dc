"""``python -m dedupe``, and the driver script ``spark-submit`` is given (see README, "On Apache Spark")."""

import sys

from dedupe.cli import main

if __name__ == "__main__":
    sys.exit(main())
