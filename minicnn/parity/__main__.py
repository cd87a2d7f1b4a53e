"""``python -m minicnn.parity``: print the parity report (see ``report.py``)."""
import sys

from .report import main

sys.exit(main())
