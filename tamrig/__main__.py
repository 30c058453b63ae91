"""Allow ``python -m tamrig``."""

from tamrig.cli import main

raise SystemExit(main())
