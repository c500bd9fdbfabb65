"""``python -m gan_engine <command>``: see :mod:`gan_engine.cli`.

Idle OpenMP threads sleep rather than spin (``OMP_WAIT_POLICY=PASSIVE``, unless the caller set
it), as in Memorial's workers: torch's OpenMP runtime reads the setting once, when torch loads,
and spinning threads cost a pretraining 1.6 against 30 images/s while another process held one
of two cores (BENCHMARKS.md, "Training speed in the product", measured the same for jobs).
"""

import os

os.environ.setdefault("OMP_WAIT_POLICY", "PASSIVE")

from gan_engine.cli import main  # after the OpenMP setting, before torch loads

raise SystemExit(main())
