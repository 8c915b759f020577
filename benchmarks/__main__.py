"""``python -m benchmarks``: see :mod:`benchmarks._suite`."""

from benchmarks._suite import main

raise SystemExit(main())
