"""One backend's side of `assert_same_on_backends`: `python -m keras_recipes.testing._parity_worker SPEC`.

Run with `KERAS_BACKEND` set by the parent. SPEC is a JSON file naming the
builder (`"module:function"`, or a file holding the pickled callable), the
`.npz` of inputs, the weights file (written when `"save"` is true, loaded
otherwise) and the folder for this backend's outputs (`outputs.npz`) and
per-layer table (`table.json`).
"""

import importlib
import json
import pickle
import sys
from pathlib import Path


def _builder(spec):
    if "pickled" in spec:
        return pickle.loads(Path(spec["pickled"]).read_bytes())
    module, _, name = spec["build"].partition(":")
    return getattr(importlib.import_module(module), name)


def main(spec_path):
    import keras
    import numpy as np

    from keras_recipes.testing._snapshot import snapshot_of

    spec = json.loads(Path(spec_path).read_text(encoding="utf-8"))
    model = _builder(spec)()
    if not isinstance(model, keras.Model):
        raise TypeError(f"the builder returned {type(model).__name__}, not a keras.Model")
    if spec["save"]:
        model.save_weights(spec["weights"])
    else:
        model.load_weights(spec["weights"])
    with np.load(spec["inputs"]) as arrays:
        inputs = [arrays[f"input_{index}"] for index in range(len(arrays.files))]
    outputs = model.predict(inputs[0] if len(inputs) == 1 else inputs, verbose=0)
    folder = Path(spec["out"])
    np.savez(folder / "outputs.npz", **{
        f"output_{index}": keras.ops.convert_to_numpy(output)
        for index, output in enumerate(keras.tree.flatten(outputs))
    })
    snapshot = snapshot_of(model)
    (folder / "table.json").write_text(snapshot.to_json(), encoding="utf-8")


if __name__ == "__main__":
    main(sys.argv[1])
