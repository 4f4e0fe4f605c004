"""Allow `python -m edc` as an alias of the `edc` console script."""

from edc.cli.app import main

if __name__ == "__main__":  # pragma: no cover - exercised through a subprocess
    main()
