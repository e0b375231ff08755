# The notebook file is not valid JSON.
# %% [raw-notebook]
{"cells": [{"cell_type": "code", "source": "def ResidualBlock(
