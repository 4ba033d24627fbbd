"""``python -m decontam.cli`` runs the command line, as ``python -m decontam`` does."""

import sys

from .app import main

sys.exit(main())
