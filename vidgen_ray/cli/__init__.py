"""The command line: ``vidgen`` (``cli.app``; also ``python -m vidgen_ray``)."""
