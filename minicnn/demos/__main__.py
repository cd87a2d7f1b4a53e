"""``python -m minicnn.demos``: list the demos, one line each."""
import sys

from . import DEMOS


def main(argv=None):
    print("minicnn demos (run one with: python -m minicnn.demos.<name> [--help]):")
    width = max(map(len, DEMOS))
    for name, line in DEMOS.items():
        print(f"  {name:<{width}}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
