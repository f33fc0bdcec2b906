"""`python -m vramscope` is the `vramscope` command."""

import sys

from vramscope.cli import main

sys.exit(main())
