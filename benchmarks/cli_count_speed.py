"""How fast `keras-recipes count` answers on ResNet50, as a user runs it.

Saves a ResNet50 (weights=None, nothing downloaded) to a temporary `.keras`
file, then times whole commands in fresh processes (best of 7 wall-clock
runs each, since a user waits for the whole process):

1. `python -c pass`: the floor, Python starting up;
2. `python -m keras_recipes --help`: the command line's own start-up
   (importing `keras_recipes` and `param_count`, building the parsers);
3. `python -m keras_recipes count resnet50.keras`: the command;
4. the baseline, a fresh `python -c` that imports Keras, loads the file and
   calls `count_params()`.

Prints times and ratios against the baseline and the floor; asserts nothing.

    python benchmarks/cli_count_speed.py

Target (issue 6): `count` answers in well under a second.
"""

import os
import subprocess
import sys
import tempfile
import time

os.environ.setdefault("TF_CPP_MIN_LOG_LEVEL", "3")

_BASELINE = (
    "import sys, keras\n"
    "print(keras.saving.load_model(sys.argv[1]).count_params())"
)


def _best_wall_time(command, repeat):
    times = []
    for _ in range(repeat):
        started = time.perf_counter()
        subprocess.run(command, check=True, capture_output=True)
        times.append(time.perf_counter() - started)
    return min(times)


def main():
    import keras

    model = keras.applications.ResNet50(weights=None)
    with tempfile.TemporaryDirectory() as directory:
        path = os.path.join(directory, "resnet50.keras")
        model.save(path)
        size = os.path.getsize(path)
        output = subprocess.run(
            [sys.executable, "-m", "keras_recipes", "count", path, "--format", "json"],
            check=True, capture_output=True, text=True,
        ).stdout
        if f'"total": {model.count_params()}' not in output:
            raise SystemExit("keras-recipes count disagrees with Keras; fix that first")
        floor = _best_wall_time([sys.executable, "-c", "pass"], 7)
        start_up = _best_wall_time([sys.executable, "-m", "keras_recipes", "--help"], 7)
        count = _best_wall_time([sys.executable, "-m", "keras_recipes", "count", path], 7)
        baseline = _best_wall_time([sys.executable, "-c", _BASELINE, path], 3)

    print(f"ResNet50 .keras file ({size / 2**20:.0f} MB), whole fresh processes, best wall time\n")
    print(f"python -c pass                               {floor * 1e3:8.0f} ms")
    print(f"keras-recipes --help                         {start_up * 1e3:8.0f} ms")
    print(f"keras-recipes count resnet50.keras           {count * 1e3:8.0f} ms")
    print(f"import keras; load_model(...).count_params() {baseline * 1e3:8.0f} ms   "
          f"({baseline / count:,.0f}x the time of count)")
    print(f"\ncount's own work beyond the command line's start-up: "
          f"{(count - start_up) * 1e3:.0f} ms")


if __name__ == "__main__":
    main()
