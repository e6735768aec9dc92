"""Process-wide test settings, for the tests and for the doctests under src/."""

import os

# Quiet TensorFlow's start-up logging; it must be set before TensorFlow loads.
os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")
os.environ.setdefault("KERAS_BACKEND", "tensorflow")
