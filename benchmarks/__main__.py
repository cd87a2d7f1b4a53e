"""``python -m benchmarks [--quick] [--only SECTION] [--out DIR]``: see run.py."""
import sys

from benchmarks.run import main

sys.exit(main())
