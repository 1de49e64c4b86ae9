"""``python -m exactmd.cli``: the ``exactmd`` command."""

from exactmd.cli.main import main

if __name__ == "__main__":  # pragma: no cover - the command line
    raise SystemExit(main())
