"""``python -m gan_engine <command>``: see :mod:`gan_engine.cli`.

Idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``, unless the caller set
it), as in Memorial's workers: torch's OpenMP runtime reads the setting once, when torch loads,
and spinning threads made a training 3.6 times slower on a busy 2-core machine (BENCHMARKS.md,
"Training speed in the product"). A pretraining started by hand shares the machine with them.
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from gan_engine.cli import main  # after the OpenMP setting, before torch loads

raise SystemExit(main())
