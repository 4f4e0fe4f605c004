"""The `edc` command line: one module per command group, assembled in `edc.cli.app`."""
