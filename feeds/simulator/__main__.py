"""`python -m feeds.simulator`: the simulator without the gridwall command."""

import sys

from feeds.simulator.command import main

sys.exit(main())
