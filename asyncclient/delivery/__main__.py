"""``python -m asyncclient.delivery [SPOOL_DIR] [--until-empty]``: run the delivery agent."""

import sys

from asyncclient.delivery.agent import main

sys.exit(main())
