"""The bundle's entry point: the same `kiosk` command as the installed package."""

import sys

from kiosk.cli import main

sys.exit(main())
