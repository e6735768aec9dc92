"""How fast `count_config` and `count_model` are on ResNet50 and on a 2,000-layer model.

Saves two models to temporary `.keras` files: ResNet50 (weights=None,
nothing downloaded) and a generated functional model of 2,000 layers (500
residual blocks of Dense, BatchNormalization, ReLU and Add). For each file it
measures, each in a fresh interpreter so that nothing is cached:

1. `count_config(path)` with Keras never imported: the time of the call
   (best of 5), and the time of the whole job (import
   `keras_recipes.param_count` plus one call);
2. the baseline, `keras.saving.load_model(path).count_params()`: the call
   alone with Keras already imported (best of the repeats), and the whole job
   with `import keras`.

Then, in this process, `count_model(model)` on the live ResNet50 against
`model.count_params()`. Prints times and ratios; asserts nothing.

    python benchmarks/count_speed.py

Targets: `count_config` at least 20x faster than load_model plus
count_params and under 100 ms, without importing Keras (issue 3); no slower
than 3.8 ms on ResNet50's file and under 50 ms on the 2,000-layer file
(issue 16).
"""

import json
import os
import statistics
import subprocess
import sys
import tempfile
import textwrap
import timeit

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

BLOCKS = 500  # of 4 layers each: 2,000 layers
UNITS = 16

_OURS = textwrap.dedent(
    """
    import json, sys, time, timeit
    started = time.perf_counter()
    from keras_recipes.param_count import count_config
    table = count_config(sys.argv[1])
    first = table.total.total
    job = time.perf_counter() - started
    call = min(timeit.repeat(lambda: count_config(sys.argv[1]), repeat=5, number=1))
    print(json.dumps({"job": job, "call": call, "total": first, "rows": len(table.rows),
                      "keras_imported": "keras" in sys.modules}))
    """
)

_BASELINE = textwrap.dedent(
    """
    import json, sys, time
    started = time.perf_counter()
    import keras
    imported = time.perf_counter()
    total = keras.saving.load_model(sys.argv[1]).count_params()
    done = time.perf_counter()
    calls = []
    for _ in range(int(sys.argv[2])):
        again = time.perf_counter()
        keras.saving.load_model(sys.argv[1]).count_params()
        calls.append(time.perf_counter() - again)
    print(json.dumps({"job": done - started, "call": min(calls), "total": total}))
    """
)


def _fresh(code, *arguments):
    output = subprocess.run(
        [sys.executable, "-c", code, *arguments], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def deep_model(blocks=BLOCKS, units=UNITS):
    """A functional model of `4 * blocks` layers: residual Dense blocks, stably named."""
    import keras

    inputs = keras.Input((units,), name="inputs")
    hidden = inputs
    for block in range(blocks):
        branch = keras.layers.Dense(units, name=f"block_{block}_dense")(hidden)
        branch = keras.layers.BatchNormalization(name=f"block_{block}_norm")(branch)
        branch = keras.layers.Activation("relu", name=f"block_{block}_relu")(branch)
        hidden = keras.layers.Add(name=f"block_{block}_add")([hidden, branch])
    return keras.Model(inputs, hidden, name=f"deep_{4 * blocks}")


def compare_file(label, model, directory, repeats):
    """Prints count_config against load_model + count_params on `model`'s file."""
    path = os.path.join(directory, f"{model.name}.keras")
    model.save(path)
    ours = [_fresh(_OURS, path) for _ in range(3)]
    theirs = _fresh(_BASELINE, path, str(repeats))
    if {run["total"] for run in ours} != {theirs["total"]}:
        raise SystemExit(f"{label}: count_config disagrees with Keras; fix that first")
    call = min(run["call"] for run in ours)
    job = statistics.median(run["job"] for run in ours)
    print(f"{label} .keras file ({ours[0]['rows']:,} rows, {os.path.getsize(path):,} bytes): "
          "count_config against load_model + count_params\n")
    print(f"keras imported by count_config's process: {any(r['keras_imported'] for r in ours)}")
    print(f"count_config call              {call * 1e3:9.1f} ms")
    print(f"load_model + count_params call {theirs['call'] * 1e3:9.1f} ms   "
          f"({theirs['call'] / call:,.0f}x slower)")
    print(f"fresh process, import + count_config   {job * 1e3:9.1f} ms")
    print(f"fresh process, import keras + load + count {theirs['job'] * 1e3:9.1f} ms   "
          f"({theirs['job'] / job:,.0f}x slower)\n")


def main():
    import keras

    from keras_recipes.param_count import count_model

    if hasattr(os, "getloadavg"):
        print("load average (1, 5, 15 min): "
              + ", ".join(f"{load:.2f}" for load in os.getloadavg()) + "\n")
    model = keras.applications.ResNet50(weights=None)
    with tempfile.TemporaryDirectory() as directory:
        compare_file("ResNet50", model, directory, repeats=3)
        compare_file(f"{4 * BLOCKS:,}-layer functional", deep_model(), directory, repeats=1)

    print("Live ResNet50: count_model against count_params (best of 5)\n")
    baseline = min(timeit.repeat(model.count_params, repeat=5, number=1))
    walked = min(timeit.repeat(lambda: count_model(model), repeat=5, number=1))
    print(f"model.count_params()  {baseline * 1e3:8.1f} ms")
    print(f"count_model(model)    {walked * 1e3:8.1f} ms   ({walked / baseline:,.1f}x the time)")


if __name__ == "__main__":
    main()
