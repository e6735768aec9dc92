"""Process-wide test settings, for the tests and for the doctests under src/."""

import os

# Quiet TensorFlow's start-up logging; it must be set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")

# TensorFlow 2.21 writes absl start-up lines to file descriptor 2 whatever the
# log level; importing Keras once here, the way the command line does, keeps
# them out of the test report (and out of each pytest-xdist worker's).
from keras_recipes.cli import import_keras  # noqa: E402

import_keras()

# pytest's own `pytester` fixture runs the plugin's tests (tests/testing/)
# in inner pytest sessions, and our own plugin gives the recipes' snapshot
# tests their fixture even where the installed package's entry point is not
# registered (a checkout on PYTHONPATH); where it is, pytest loads the module
# once, as the entry point has the module's name. `pytest_plugins` may only
# be set here, at the root.
pytest_plugins = ["pytester", "keras_recipes.pytest_plugin"]
