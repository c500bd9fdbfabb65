"""The engine's defaults, written once: :class:`gan_engine.train.TrainConfig`, the command line
and ``bench/gan_quality.py`` all read them from here.

No torch and no other heavy import, so that ``python -m gan_engine train --help`` and the
benchmark's ``--plan`` answer at once, and so that a default changed here changes everywhere.
Why each value: docs/engine.md ("Design") and BENCHMARKS.md ("Engine speed", "Engine quality").
"""

from __future__ import annotations

# ----- the run ------------------------------------------------------------------------------------
RESOLUTION = 64
STEPS = 10_000
#: 0 = chosen by the engine: 16 on the CPU, from free memory on a GPU.
BATCH = 0
SEED = 0
DEVICE = "auto"

# ----- networks -----------------------------------------------------------------------------------
#: Every channel count is scaled by this (networks.BASE_CHANNELS); 2-4 on a GPU.
WIDTH = 1.0
#: How G's 3x3 convolutions pad the border (networks.NetConfig.padding).
PADDINGS = ("zeros", "reflect")
PADDING = "reflect"
#: Whether G's caption projection has a bias (networks.NetConfig.caption_bias).
CAPTION_BIAS = True

# ----- optimisation -------------------------------------------------------------------------------
LOSSES = ("hinge", "nsgan")
LOSS = "hinge"
LR_G = 2e-4
LR_D = 2e-4
#: R1's gamma; 0 = off.
R1_GAMMA = 0.0

# ----- augmentation -------------------------------------------------------------------------------
ADA = True
#: The augmentation probability at the start (or throughout, without ADA).
AUG_P = 0.0

# ----- bookkeeping --------------------------------------------------------------------------------
SAMPLE_EVERY = 500
#: A sample grid also after this many seconds of training since the last one (whichever comes
#: first); 0 = by steps only. A slow CPU run reaches 500 steps only after hours.
SAMPLE_EVERY_SECONDS = 120.0
#: A person's model measures its likeness at every sample grid and keeps the best snapshot's
#: weights for generation (gan_engine.likeness); False = the last snapshot.
KEEP_BEST = True
#: Samples per likeness measurement (about 0.1 CPU-second each at 64 px).
LIKENESS_SAMPLES = 24
CHECKPOINT_EVERY_STEPS = 500
CHECKPOINT_EVERY_SECONDS = 600.0
#: Fewest usable photos a person's model trains on.
MIN_PHOTOS = 5
#: Fewest faces a general prior trains on: below this a corpus is not worth pretraining on.
PRETRAIN_MIN_PHOTOS = 200
