import sys

from mdp.cli import main

sys.exit(main())
