"""``python -m minicnn.demos``: list the demos; ``python -m minicnn.demos NAME ...`` runs one."""
import importlib
import sys

from . import DEMOS


def main(argv=None):
    """List the demos (no arguments) or run ``argv[0]`` with the rest; the exit status."""
    argv = list(argv or [])
    if argv and argv[0] not in ("-h", "--help"):
        name, rest = argv[0], argv[1:]
        if name not in DEMOS:
            print(f"error: unknown demo {name!r}; the demos are {', '.join(DEMOS)} "
                  f"(python -m minicnn.demos lists them)", file=sys.stderr)
            return 2
        return importlib.import_module(f"{__package__}.{name}").main(rest)
    print("minicnn demos (run one with: python -m minicnn.demos.<name> [--help]):")
    width = max(map(len, DEMOS))
    for name, line in DEMOS.items():
        print(f"  {name:<{width}}  {line}")
    return 0


if __name__ == "__main__":
    sys.exit(main(sys.argv[1:]))
