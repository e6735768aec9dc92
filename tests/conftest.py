"""Test-suite settings: the Hypothesis profile, and imports of `strategies`.

The root `conftest.py` sets the Keras backend and TensorFlow's log level.
"""

import sys
from pathlib import Path

from hypothesis import HealthCheck, settings

# With `--import-mode=importlib` pytest puts no test directory on `sys.path`;
# this one is, so that every test module can `import strategies`.
_TESTS_DIRECTORY = str(Path(__file__).parent)
if _TESTS_DIRECTORY not in sys.path:
    sys.path.insert(0, _TESTS_DIRECTORY)

# Each example builds real Keras layers (a few milliseconds each), so the
# profile keeps examples few and has no per-example deadline: the first build
# of a layer class traces TensorFlow functions and is much slower than the
# rest. No example database, so a test run writes no files.
settings.register_profile(
    "keras_recipes",
    max_examples=25,
    deadline=None,
    database=None,
    print_blob=True,
    suppress_health_check=[HealthCheck.too_slow],
)
settings.load_profile("keras_recipes")
