"""How fast `count_config` and `count_model` are on ResNet50.

Saves a ResNet50 (weights=None, nothing downloaded) to a temporary `.keras`
file, then measures, each in a fresh interpreter so that nothing is cached:

1. `count_config(path)` with Keras never imported: the time of the call
   (best of 5), and the time of the whole job (import
   `keras_recipes.param_count` plus one call);
2. the baseline, `keras.saving.load_model(path).count_params()`: the call
   alone with Keras already imported, and the whole job with `import keras`.

Then, in this process, `count_model(model)` on the live ResNet50 against
`model.count_params()`. Prints ratios; asserts nothing.

    python benchmarks/count_speed.py

Targets (issue 3): `count_config` at least 20x faster than load_model plus
count_params, and under 100 ms, without importing Keras.
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

_OURS = textwrap.dedent(
    """
    import json, sys, time, timeit
    started = time.perf_counter()
    from keras_recipes.param_count import count_config
    first = count_config(sys.argv[1]).total.total
    job = time.perf_counter() - started
    call = min(timeit.repeat(lambda: count_config(sys.argv[1]), repeat=5, number=1))
    print(json.dumps({"job": job, "call": call, "total": first,
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
    for _ in range(3):
        again = time.perf_counter()
        keras.saving.load_model(sys.argv[1]).count_params()
        calls.append(time.perf_counter() - again)
    print(json.dumps({"job": done - started, "call": min(calls), "total": total}))
    """
)


def _fresh(code, path):
    output = subprocess.run(
        [sys.executable, "-c", code, path], capture_output=True, text=True, check=True
    ).stdout
    return json.loads(output.strip().splitlines()[-1])


def main():
    import keras

    from keras_recipes.param_count import count_model

    model = keras.applications.ResNet50(weights=None)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "resnet50.keras")
        model.save(path)
        ours = [_fresh(_OURS, path) for _ in range(3)]
        theirs = _fresh(_BASELINE, path)

    if {run["total"] for run in ours} != {theirs["total"]}:
        raise SystemExit("count_config disagrees with Keras; fix that first")
    call = min(run["call"] for run in ours)
    job = statistics.median(run["job"] for run in ours)
    print("ResNet50 .keras file: count_config against load_model + count_params\n")
    print(f"keras imported by count_config's process: {any(r['keras_imported'] for r in ours)}")
    print(f"count_config call              {call * 1e3:9.1f} ms")
    print(f"load_model + count_params call {theirs['call'] * 1e3:9.1f} ms   "
          f"({theirs['call'] / call:,.0f}x slower)")
    print(f"fresh process, import + count_config   {job * 1e3:9.1f} ms")
    print(f"fresh process, import keras + load + count {theirs['job'] * 1e3:9.1f} ms   "
          f"({theirs['job'] / job:,.0f}x slower)")

    print("\nLive ResNet50: count_model against count_params (best of 5)\n")
    baseline = min(timeit.repeat(model.count_params, repeat=5, number=1))
    walked = min(timeit.repeat(lambda: count_model(model), repeat=5, number=1))
    print(f"model.count_params()  {baseline * 1e3:8.1f} ms")
    print(f"count_model(model)    {walked * 1e3:8.1f} ms   ({walked / baseline:,.1f}x the time)")


if __name__ == "__main__":
    main()
