"""Allow `python -m passtrace ...` where the console script is not on PATH."""

from passtrace.cli.main import app

app(prog_name="passtrace")
