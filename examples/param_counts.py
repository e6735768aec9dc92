"""Build every recipe and print its Keras parameter count beside `param_count`'s.

The main job until the command-line tool exists: it shows that the analytic
counts of `keras_recipes.param_count` agree with what Keras builds, trainable
and non-trainable parameters apart, and exits with status 1 if any of them
ever disagrees.

    python examples/param_counts.py
"""

import math
import os
import sys

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")

import keras_recipes  # noqa: E402
from keras_recipes import param_count  # noqa: E402

# The lecture's examples, at least one per recipe, plus a multi-input,
# multi-output branch-and-merge model.
EXAMPLES = [
    ("mlp", (2, [3, 2, 3]), {"activation": None, "output_activation": "sigmoid"}),
    ("mlp", (784, [256, 128, 10]), {"output_activation": "softmax"}),
    ("shared_mlp", (2, 3, [2]), {}),
    ("branch_merge", (2, [1], [[], [2]], [1]), {"output_activation": "sigmoid"}),
    ("branch_merge", (2, [3], [[2], [1, 2]], [3]), {}),
    ("branch_merge", ([4, 4], [8], [[8], []], [[1], [3]]), {"merge": "add"}),
    ("averaging_layer", (3,), {}),
    # keras.io's VAE: its defaults are the example's configuration.
    ("vae", ((28, 28, 1),), {"architecture": "conv"}),
    ("autoencoder", ((64,), 2), {"hidden_units": (32,), "noise_stddev": 0.1}),
    # The split-brain paper's half-width AlexNet (its 180x180 input), and the
    # small architecture the tests and docs train. Their batch normalisations
    # hold non-trainable moving statistics, so the split is checked too.
    ("split_brain_ae", ((180, 180, 3),), {}),
    ("split_brain_ae", ((32, 32, 3),), {"architecture": "small", "width_multiplier": 0.125}),
]


def _call(name, args, kwargs):
    arguments = [repr(argument) for argument in args]
    arguments += [f"{key}={value!r}" for key, value in kwargs.items()]
    return f"{name}({', '.join(arguments)})"


def _keras_split(model):
    """Keras's trainable and non-trainable parameter counts of `model`."""
    return tuple(
        sum(math.prod(weight.shape) for weight in weights)
        for weights in (model.trainable_weights, model.non_trainable_weights)
    )


def main():
    print(f"keras-recipes {keras_recipes.__version__}: Keras count_params() "
          "beside the analytic param_count\n")
    header = f"{'recipe':<76} {'keras':>11} {'param_count':>11}  {'trainable/non-trainable'}"
    print(header)
    print("-" * len(header))
    disagreements = 0
    for name, args, kwargs in EXAMPLES:
        model = getattr(keras_recipes, name)(*args, **kwargs)
        expected = getattr(param_count, name)(*args, **kwargs)
        trainable, non_trainable = _keras_split(model)
        # count_params() is checked on its own: it is the figure users see.
        agrees = (model.count_params(), trainable, non_trainable) == (
            expected.total,
            expected.trainable,
            expected.non_trainable,
        )
        disagreements += not agrees
        split = f"{expected.trainable:,}/{expected.non_trainable:,}"
        if not agrees:
            split = f"keras {trainable:,}/{non_trainable:,}, param_count {split}"
        print(
            f"{_call(name, args, kwargs):<76} {model.count_params():>11,} "
            f"{expected.total:>11,}  {split}  {'ok' if agrees else 'DISAGREE'}"
        )
    print()
    if disagreements:
        print(f"{disagreements} recipe(s) disagree with param_count.")
        return 1
    print("Every recipe agrees with param_count.")
    return 0


if __name__ == "__main__":
    sys.exit(main())
