"""How much faster `param_count` is than building a model and calling `count_params()`.

Measured in one process, against its own baseline: for a 1-layer and a
50-layer MLP, the time of `param_count.mlp(...)` beside the time of
`keras_recipes.mlp(...).count_params()` and of the same model hand-written
with plain Keras, uncompiled (the cheapest way to get Keras's answer). Then
the import time of `keras_recipes.param_count` beside `import keras`, each in
a fresh interpreter with `.pyc` files (and `param_count`'s once more without
them). Prints ratios; asserts nothing.

    python benchmarks/param_count_speed.py

Targets (issue 2): at least 1000x for the 50-layer model, and
`keras_recipes.param_count` importing in under 50 ms.
"""

import os
import statistics
import subprocess
import sys
import tempfile
import time
import timeit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "2")


def _best_of(function, repeat, number):
    """Best time of one call, in seconds, over `repeat` rounds of `number` calls."""
    return min(timeit.repeat(function, repeat=repeat, number=number)) / number


def _hand_written(input_dim, units):
    import keras

    inputs = keras.Input(shape=(input_dim,))
    tensor = inputs
    for width in units:
        tensor = keras.layers.Dense(width, activation="relu")(tensor)
    return keras.Model(inputs, tensor).count_params()


def _import_seconds(module, rounds=5, bytecode_cache=True):
    """Median wall time of `import module` in a fresh interpreter.

    With `bytecode_cache`, Python may write and read `.pyc` files (in a
    temporary `PYTHONPYCACHEPREFIX`, filled by one untimed warm-up run), as
    for a package installed by pip, which compiles it. Without, under
    `PYTHONDONTWRITEBYTECODE=1`, a source checkout that never wrote its
    `__pycache__` compiles every module of the package at every import.
    """
    code = (
        "import time; started = time.perf_counter(); "
        f"import {module}; print(time.perf_counter() - started)"
    )
    env = {**os.environ, "TF_CPP_MIN_LOG_LEVEL": "2"}
    with tempfile.TemporaryDirectory() as cache:
        if bytecode_cache:
            env.pop("PYTHONDONTWRITEBYTECODE", None)
            env["PYTHONPYCACHEPREFIX"] = cache
        else:
            # The standard library keeps its own .pyc files; the package's
            # are neither written nor, where none were written before, read.
            env["PYTHONDONTWRITEBYTECODE"] = "1"
        times = []
        warm_up = 1 if bytecode_cache else 0
        for round_ in range(warm_up + rounds):
            output = subprocess.run(
                [sys.executable, "-c", code], capture_output=True, text=True, check=True, env=env
            ).stdout
            if round_ < warm_up:
                continue  # the warm-up that writes the cache
            times.append(float(output.strip().splitlines()[-1]))
    return statistics.median(times)


def main():
    import keras_recipes
    from keras_recipes import param_count

    print("param_count against building the model (best of several runs)\n")
    print(f"{'model':<22} {'param_count':>12} {'mlp()+count':>12} {'hand Keras':>12} "
          f"{'x vs mlp()':>11} {'x vs hand':>10}")
    for depth in (1, 50):
        units = [64] * depth
        arguments = (32, units)
        expected = param_count.mlp(*arguments).total
        if keras_recipes.mlp(*arguments).count_params() != expected:
            raise SystemExit("param_count disagrees with Keras; fix that first")
        analytic = _best_of(lambda: param_count.mlp(*arguments), repeat=5, number=2000)
        built = _best_of(
            lambda: keras_recipes.mlp(*arguments).count_params(), repeat=3, number=3
        )
        hand = _best_of(lambda: _hand_written(*arguments), repeat=3, number=3)
        print(
            f"{f'{depth}-layer MLP (64 wide)':<22} {analytic * 1e6:>10.1f}us "
            f"{built * 1e3:>10.1f}ms {hand * 1e3:>10.1f}ms "
            f"{built / analytic:>10,.0f}x {hand / analytic:>9,.0f}x"
        )

    print("\nimport time in a fresh interpreter (median of 5), with .pyc files\n")
    ours = _import_seconds("keras_recipes.param_count")
    uncached = _import_seconds("keras_recipes.param_count", bytecode_cache=False)
    theirs = _import_seconds("keras")
    print(f"import keras_recipes.param_count  {ours * 1e3:8.1f} ms")
    print(f"import keras                      {theirs * 1e3:8.1f} ms  "
          f"({theirs / ours:,.0f}x slower)")
    print(f"import keras_recipes.param_count  {uncached * 1e3:8.1f} ms  "
          "without .pyc files (the package compiled from source)")


if __name__ == "__main__":
    started = time.perf_counter()
    main()
    print(f"\n(benchmark took {time.perf_counter() - started:.0f} s)")
