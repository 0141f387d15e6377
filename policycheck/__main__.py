import sys

from policycheck.cli import main

sys.exit(main())
