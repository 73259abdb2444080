"""Allow ``python -m aiplat_gen``."""

from aiplat_gen.cli import main

main()
