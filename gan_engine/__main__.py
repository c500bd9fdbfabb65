"""``python -m gan_engine <command>``: see :mod:`gan_engine.cli`."""

from gan_engine.cli import main

raise SystemExit(main())
