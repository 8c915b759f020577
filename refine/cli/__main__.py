import sys

from refine.cli._main import main

sys.exit(main())
