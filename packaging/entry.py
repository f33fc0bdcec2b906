"""The PyInstaller bundle's entry point: the same `vramscope` command as the installed package."""

import sys

from vramscope.cli import main

if __name__ == "__main__":
    sys.exit(main())
