"""Tests of `param_count.count_config` on saved models and on hostile input.

count_config reads untrusted files: each broken or malicious input must give
a clear `ValueError` (or `TypeError`) after bounded work, never a crash deep
inside, a `RecursionError`, or a guessed total. Every recipe of the library,
saved to `.keras`, must count in a fresh interpreter without Keras.
"""

import contextlib
import functools
import io
import json
import re
import subprocess
import sys
import textwrap
import warnings
import zipfile

import keras
from hypothesis import given, settings
from hypothesis import strategies as st
import pytest
import strategies
from test_recipes import RECIPES, _id

import keras_recipes
from keras_recipes.param_count import ParamCount, _saved, count_config, count_model

DENSE = {
    "module": "keras.layers",
    "class_name": "Dense",
    "config": {"name": "d", "units": 3, "use_bias": True},
    "build_config": {"input_shape": [None, 2]},
}


def sequential(*layers, name="s"):
    """A serialized Sequential model holding the given layer configs."""
    return {"class_name": "Sequential", "config": {"name": name, "layers": list(layers)}}


def write_zip(path, files):
    """Write a zip at `path` holding `files` (name -> bytes)."""
    with zipfile.ZipFile(path, "w", compression=zipfile.ZIP_DEFLATED) as archive:
        for name, data in files.items():
            archive.writestr(name, data)
    return path


# === Sources that are fine ===


def test_dict_json_and_keras_file_give_the_same_table(tmp_path):
    """A config dict, its JSON text and a .keras file holding it give one total."""
    config = sequential(DENSE)
    path = write_zip(tmp_path / "m.keras", {"config.json": json.dumps(config)})
    totals = {count_config(source).total for source in (config, json.dumps(config), path, str(path))}
    assert totals == {ParamCount(9)}


def test_get_config_without_class_name():
    """`model.get_config()` (no class_name) is accepted, Functional or Sequential."""
    model = keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)])
    assert count_config(model.get_config()).total == ParamCount(9)
    functional = keras.Model(model.inputs, model.outputs)
    assert count_config(functional.get_config()).total == ParamCount(9)


# === Hostile or broken input ===


def test_not_a_zip(tmp_path):
    """A file that is not a zip archive is refused by name."""
    path = tmp_path / "m.keras"
    path.write_bytes(b"not a zip at all")
    with pytest.raises(ValueError, match="not a zip.*Received: source="):
        count_config(path)


def test_missing_path_says_there_is_no_file(tmp_path):
    """A path to no file (a typo) or to a directory is refused as such, not as "not a zip"."""
    with pytest.raises(ValueError, match="no file at this path.*Received: source="):
        count_config(tmp_path / "typo.keras")
    with pytest.raises(ValueError, match="a directory.*Received: source="):
        count_config(str(tmp_path))


def test_zip_without_config_json(tmp_path):
    """A zip without config.json is refused."""
    path = write_zip(tmp_path / "m.keras", {"model.weights.h5": b"x"})
    with pytest.raises(ValueError, match="with a `config.json`"):
        count_config(path)


@pytest.mark.parametrize("text", ["{", '{"class_name": "Sequential", ', "[1, 2", "{'a': 1}"])
def test_malformed_json(tmp_path, text):
    """Malformed JSON, in a string or in a file, is a ValueError naming `source`."""
    with pytest.raises(ValueError, match="valid JSON.*Received: source="):
        count_config(text)
    path = write_zip(tmp_path / "m.keras", {"config.json": text})
    with pytest.raises(ValueError, match="valid JSON"):
        count_config(path)


def test_config_json_declared_too_large(tmp_path, monkeypatch):
    """A config.json larger than the cap is refused from the size the archive declares."""
    monkeypatch.setattr(_saved, "MAX_CONFIG_BYTES", 1000)
    path = write_zip(tmp_path / "m.keras", {"config.json": " " * 2000 + json.dumps(sequential(DENSE))})
    with pytest.raises(ValueError, match="at most 1,000 bytes; the archive declares 2,"):
        count_config(path)


def test_zip_bomb_with_a_lying_size_is_read_only_up_to_the_cap(tmp_path, monkeypatch):
    """An archive that understates config.json's size is cut off at the cap, not read whole."""
    monkeypatch.setattr(_saved, "MAX_CONFIG_BYTES", 1000)
    path = write_zip(tmp_path / "m.keras", {"config.json": b" " * 50_000})
    # Rewrite the declared uncompressed size (central directory and local
    # header) to 10 bytes, as a zip bomb would.
    data = bytearray(path.read_bytes())
    central = data.rindex(b"PK\x01\x02")
    data[central + 24 : central + 28] = (10).to_bytes(4, "little")
    local = data.index(b"PK\x03\x04")
    data[local + 22 : local + 26] = (10).to_bytes(4, "little")
    path.write_bytes(bytes(data))
    read = []
    original_read = zipfile.ZipExtFile.read

    def counting_read(self, n=-1):
        chunk = original_read(self, n)
        read.append(len(chunk))
        return chunk

    monkeypatch.setattr(zipfile.ZipExtFile, "read", counting_read)
    with pytest.raises(ValueError, match="source"):
        count_config(path)
    assert sum(read) <= 1001


def test_json_string_too_large(monkeypatch):
    """A JSON string over the cap is refused before parsing."""
    monkeypatch.setattr(_saved, "MAX_CONFIG_BYTES", 100)
    with pytest.raises(ValueError, match="at most 100 bytes"):
        count_config(json.dumps(sequential(DENSE)))


def test_absurd_json_nesting_is_a_value_error():
    """JSON nested 100,000 deep is a ValueError, not a RecursionError."""
    text = "[" * 100_000 + "]" * 100_000
    with pytest.raises(ValueError, match="nested too deeply"):
        count_config(text)


def test_absurd_model_nesting_is_a_value_error():
    """Models nested beyond MAX_DEPTH are refused with a ValueError."""
    config = sequential(DENSE)
    for depth in range(_saved.MAX_DEPTH + 2):
        config = sequential(config, name=f"m{depth}")
    with pytest.raises(ValueError, match="nested at most"):
        count_config(config)


def test_absurd_wrapper_nesting_is_a_value_error():
    """TimeDistributed wrapped hundreds of times is refused with a ValueError."""
    layer = DENSE
    for _ in range(200):
        layer = {"class_name": "TimeDistributed", "config": {"name": "t", "layer": layer},
                 "build_config": {"input_shape": [None, 1, 2]}}
    with pytest.raises(ValueError, match="wrappers nested at most 16 deep"):
        count_config(sequential(layer))


def test_absurdly_many_layers(monkeypatch):
    """More layers than MAX_LAYERS are refused."""
    monkeypatch.setattr(_saved, "MAX_LAYERS", 50)
    config = sequential(*[{**DENSE, "config": {**DENSE["config"], "name": f"d{i}"}} for i in range(51)])
    with pytest.raises(ValueError, match="at most 50 layers"):
        count_config(config)


@pytest.mark.parametrize(
    "layer, message",
    [
        ({**DENSE, "config": {"name": "d", "units": "three"}}, "`units`.*expected a positive integer"),
        ({**DENSE, "config": {"name": "d", "units": -1}}, "`units`.*expected a positive integer"),
        ({**DENSE, "build_config": {"input_shape": "big"}}, "input_shape"),
        ({**DENSE, "build_config": None}, "built layer"),
        ({**DENSE, "config": {"name": "d", "units": 3, "use_bias": "yes"}}, "`use_bias`"),
    ],
)
def test_inconsistent_layer_config(layer, message):
    """A known layer whose config Keras could not have made is a ValueError naming the layer."""
    with pytest.raises(ValueError, match=f"Cannot count layer 'd'.*{message}"):
        count_config(sequential(layer))


def test_a_notebook_subclass_named_like_a_keras_layer_is_unsupported():
    """A class defined in `__main__` (a script, a notebook) named `Dense` is not counted as Keras's Dense."""
    # What Keras writes for `class Dense(keras.layers.Dense)` defined in
    # `__main__`: its module becomes None and its registered name is the
    # class name. It may add weights of its own, so no formula applies.
    layer = {**DENSE, "module": None, "registered_name": "Dense"}
    table = count_config(sequential(layer))
    assert [row.status for row in table.rows] == ["unsupported"]
    with pytest.raises(ValueError, match="no formula for the layers d \\(Dense\\)"):
        table.total


def test_a_huge_bad_value_is_not_echoed_whole():
    """An absurd value in a layer config is named in the error, but cut short, not copied whole."""
    layer = {**DENSE, "config": {"name": "d", "units": "9" * 100_000}}
    with pytest.raises(ValueError, match="`units`.*Received: units='9999") as error:
        count_config(sequential(layer))
    assert len(str(error.value)) < 1000


@pytest.mark.parametrize(
    "source",
    [
        {"class_name": "Dense", "config": {}},
        {"class_name": "Sequential", "config": {"layers": "many"}},
        {"class_name": "Sequential", "config": {"layers": [1, 2]}},
        "[]",
    ],
)
def test_not_a_model_config(source):
    """Something that is not a Sequential or Functional config is refused."""
    with pytest.raises(ValueError):
        count_config(source)


@pytest.mark.parametrize("source", [None, 3, b"{}", ["a"]])
def test_wrong_source_type(source):
    """A source that is neither a dict, a string nor a path is a TypeError naming `source`."""
    with pytest.raises(TypeError, match="`source`.*Received: source="):
        count_config(source)


def test_lambda_layer_is_never_executed(tmp_path):
    """A Lambda layer's serialized code is not run: it counts as a weightless layer."""
    marker = tmp_path / "ran"
    code = f"open({str(marker)!r}, 'w').write('x')"
    layer = {
        "module": "keras.layers",
        "class_name": "Lambda",
        "config": {"name": "evil", "function": {"class_name": "__lambda__",
                                                "config": {"code": code}}},
        "build_config": {"input_shape": [None, 2]},
    }
    path = write_zip(tmp_path / "m.keras", {"config.json": json.dumps(sequential(layer, DENSE))})
    assert count_config(path).total == ParamCount(9)
    assert not marker.exists()


# === Every recipe, saved and counted without Keras ===

_COUNT_IN_FRESH_PYTHON = textwrap.dedent(
    """
    import json, sys
    from keras_recipes.param_count import count_config
    total = count_config(sys.argv[1]).total
    heavy = sorted(m for m in ("keras", "tensorflow", "jax", "torch") if m in sys.modules)
    print(json.dumps([total.trainable, total.non_trainable, heavy]))
    """
)


@pytest.mark.parametrize("row", RECIPES, ids=[_id(row) for row in RECIPES])
def test_every_recipe_counts_live_and_from_its_saved_file(row, tmp_path):
    """count_model, and count_config on its .keras file in a Keras-free process, equal count_params()."""
    name, args, kwargs, _ = row
    model = getattr(keras_recipes, name)(*args, **kwargs)
    expected = ParamCount(
        sum(w.numpy().size for w in model.trainable_weights),
        sum(w.numpy().size for w in model.non_trainable_weights),
    )
    assert expected.total == model.count_params()
    table = count_model(model)
    assert table.total == expected
    assert not [r.path for r in table.rows if r.status == "fallback"]
    path = tmp_path / "model.keras"
    model.save(path)
    output = subprocess.run(
        [sys.executable, "-c", _COUNT_IN_FRESH_PYTHON, str(path)],
        capture_output=True, text=True, check=True, timeout=120,
    ).stdout
    trainable, non_trainable, heavy = json.loads(output.strip().splitlines()[-1])
    assert heavy == []
    assert ParamCount(trainable, non_trainable) == expected


@functools.cache
def _small_model_json():
    """The JSON config of a small model touching many layer kinds, built once."""
    inputs = keras.Input((6, 4))
    hidden = keras.layers.Conv1D(4, 3, padding="same")(inputs)
    hidden = keras.layers.BatchNormalization()(hidden)
    hidden = keras.layers.MultiHeadAttention(2, 2)(hidden, hidden)
    hidden = keras.layers.Bidirectional(keras.layers.GRU(2, return_sequences=True))(hidden)
    hidden = keras.layers.TimeDistributed(keras.layers.Dense(3))(hidden)
    hidden = keras.layers.LayerNormalization()(hidden)
    outputs = keras.layers.EinsumDense("abc,cd->ad", output_shape=2)(hidden)
    return keras.Model(inputs, outputs).to_json()


_JSON_VALUES = st.recursive(
    st.none() | st.booleans() | st.integers(-3, 10**6) | st.floats(allow_nan=False) | st.text(max_size=5),
    lambda children: st.lists(children, max_size=3) | st.dictionaries(st.text(max_size=5), children, max_size=3),
    max_leaves=6,
)


def _paths(value, prefix=()):
    """Every (path, value) inside a JSON value."""
    yield prefix, value
    if isinstance(value, dict):
        for key, item in value.items():
            yield from _paths(item, (*prefix, key))
    elif isinstance(value, list):
        for index, item in enumerate(value):
            yield from _paths(item, (*prefix, index))


@settings(max_examples=200)
@given(data=st.data())
def test_corrupted_configs_give_a_table_or_a_value_error(data):
    """Any one value of a real config replaced by random JSON gives a table or a ValueError, nothing else."""
    config = json.loads(_small_model_json())
    paths = [path for path, _ in _paths(config) if path]
    for _ in range(data.draw(st.integers(1, 3))):
        path = data.draw(st.sampled_from(paths))
        parent = config
        try:
            for key in path[:-1]:
                parent = parent[key]
            parent[path[-1]] = data.draw(_JSON_VALUES)
        except (KeyError, IndexError, TypeError):
            continue  # An earlier replacement removed this path.
    try:
        table = count_config(config)
    except ValueError:
        return
    str(table)
    table.to_dict()
    try:
        table.total
    except ValueError:
        pass


@pytest.mark.parametrize(
    "config, build",
    [
        ({"name": "d", "units": 10**4000}, {"input_shape": [None, 2]}),
        ({"name": "d", "units": 3}, {"input_shape": [None] + [10**100] * 1000}),
    ],
)
def test_absurd_sizes_are_refused_quickly(config, build):
    """Sizes beyond any real tensor, or thousands of axes, are a ValueError, not a huge product."""
    with pytest.raises(ValueError, match="Cannot count layer 'd'"):
        count_config(sequential({**DENSE, "config": config, "build_config": build}))


# === Broken and crafted archives ===
# Each edit takes the bytes of a valid `.keras` zip (one `config.json` and a
# weights entry) and returns crafted bytes; zipfile raises a different
# exception for each (RuntimeError, NotImplementedError, BadZipFile,
# zlib.error, EOFError...), and every reader must turn each into one
# ValueError naming the file.


def _headers(data):
    """Offsets of every local header and central directory record."""
    local = [i for i in range(len(data)) if data.startswith(b"PK\x03\x04", i)]
    central = [i for i in range(len(data)) if data.startswith(b"PK\x01\x02", i)]
    return local, central


def _patch(data, local_offset, central_offset, value, size):
    """Write `value` at a field of every local header and central record."""
    data = bytearray(data)
    local, central = _headers(data)
    for start in local:
        data[start + local_offset : start + local_offset + size] = value.to_bytes(size, "little")
    for start in central:
        data[start + central_offset : start + central_offset + size] = value.to_bytes(size, "little")
    return bytes(data)


def _encrypted(data):
    flags = int.from_bytes(data[_headers(data)[0][0] + 6 :][:2], "little")
    return _patch(data, 6, 8, flags | 0x1, 2)


ARCHIVE_EDITS = {
    "encrypted": _encrypted,
    "compression_method_99": lambda data: _patch(data, 8, 10, 99, 2),
    "deflate64": lambda data: _patch(data, 8, 10, 9, 2),
    "bad_crc": lambda data: _patch(data, 14, 16, 0x12345678, 4),
    "corrupt_deflate_stream": lambda data: data.replace(data[_headers(data)[0][0] + 60 :][:8], b"\xff" * 8, 1),
    "zip64_size_marker_without_extra": lambda data: _patch(data, 22, 24, 0xFFFFFFFF, 4),
    "local_header_offset_lie": lambda data: _patch(data, 0, 42, 3, 4),
    "file_name_length_lie": lambda data: _patch(data, 26, 28, 200, 2),
    "compressed_size_too_small": lambda data: _patch(data, 18, 20, 10, 4),
}


def _crafted_archive(tmp_path, edit):
    """A `.keras`-like zip edited by `edit`; its path."""
    path = tmp_path / "crafted.keras"
    config = json.dumps(sequential(DENSE)) + " " * 200
    write_zip(path, {"config.json": config, "model.weights.h5": b"w" * 300})
    path.write_bytes(edit(path.read_bytes()))
    return path


def _duplicate_archive(tmp_path):
    """A zip holding two different `config.json` entries."""
    path = tmp_path / "crafted.keras"
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # zipfile warns of the duplicate name
        with zipfile.ZipFile(path, "w") as archive:
            archive.writestr("config.json", json.dumps(sequential(DENSE)))
            archive.writestr("config.json", json.dumps(sequential(DENSE, DENSE)))
    return path


@pytest.fixture(params=[*ARCHIVE_EDITS, "duplicate_config_json"])
def broken_archive(request, tmp_path):
    """The path of one crafted archive."""
    if request.param == "duplicate_config_json":
        return _duplicate_archive(tmp_path)
    return _crafted_archive(tmp_path, ARCHIVE_EDITS[request.param])


def test_a_broken_archive_is_a_value_error_naming_the_file(broken_archive):
    """count_config, check_file and load_model refuse each crafted archive with a ValueError naming it."""
    from keras_recipes import saving

    with pytest.raises(ValueError, match=r"`source`.*Received: source=.*crafted\.keras"):
        count_config(broken_archive)
    for load in (saving.check_file, saving.load_model):
        with pytest.raises(ValueError, match=r"`filepath`.*Received: filepath=.*crafted\.keras"):
            load(broken_archive)


def test_cli_count_exits_2_on_a_broken_archive(broken_archive, capsys):
    """`keras-recipes count` on each crafted archive prints one error line and exits 2."""
    from keras_recipes import cli

    assert cli.main(["count", str(broken_archive)]) == 2
    captured = capsys.readouterr()
    assert captured.out == ""
    assert captured.err.count("\n") == 1 and "crafted.keras" in captured.err


def test_load_model_names_the_file_when_only_the_weights_entry_is_damaged(tmp_path):
    """A `.keras` file whose weights entry fails its CRC is a ValueError naming the file, from load_model."""
    from keras_recipes import saving

    path = tmp_path / "damaged.keras"
    keras.Sequential([keras.Input((2,)), keras.layers.Dense(3)]).save(path)
    data = bytearray(path.read_bytes())
    name = b"model.weights.h5"
    _, central = _headers(data)
    for start in central:
        if data[start + 46 : start + 46 + len(name)] == name:
            local = int.from_bytes(data[start + 42 : start + 46], "little")
            for crc in (start + 16, local + 14):
                data[crc : crc + 4] = bytes(4)
    path.write_bytes(bytes(data))
    saving.check_file(path)  # config.json and the headers are sound
    with pytest.raises(ValueError, match=r"`filepath`.*Bad CRC-32.*Received: filepath=.*damaged\.keras"):
        saving.load_model(path)


# === Untrusted strings in what is printed ===
# A crafted file's names reach the terminal through `keras-recipes count`
# (and programs through `to_dict`): they must never carry a control
# character, widen a line without bound, or break a table's columns.

# The widest line printed: a table's eight cells at their widths
# (`_table.PATH_WIDTH` ...) with the separators come to under 500; a
# message naming a few layers to under 1,000.
MAX_LINE = 1000
MAX_BYTES_PER_ROW = 1000


def _dense(name, units=2):
    return {"module": "keras.layers", "class_name": "Dense",
            "config": {"name": name, "units": units},
            "build_config": {"input_shape": [None, 2]}}


def _untrusted_model(draw):
    """A Sequential config whose every name and class name is drawn.

    Names are unique within each model, as Keras makes them; a layer of an
    unknown (drawn) class and a nested model are among the layers.
    """
    names = draw(st.lists(strategies.untrusted_texts(), min_size=3, max_size=6, unique=True))
    *dense_names, unknown, nested = names
    layers = [_dense(name) for name in dense_names]
    layers.append({**_dense(unknown), "module": "x",
                   "class_name": "X" + draw(strategies.untrusted_texts())})
    layers.append(sequential(_dense(draw(strategies.untrusted_texts())), name=nested))
    return sequential(*layers, name=draw(strategies.untrusted_texts()))


def _run_count(path, output_format):
    """`(exit status, stdout, stderr)` of `keras-recipes count PATH --format FORMAT`."""
    from keras_recipes import cli

    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        status = cli.main(["count", str(path), "--format", output_format])
    return status, out.getvalue(), err.getvalue()


def _assert_printable(text):
    """No character but printable ones and the newlines between lines; no line wider than MAX_LINE."""
    bad = {character for character in text if not (character.isprintable() or character == "\n")}
    assert not bad, sorted(bad)
    assert max(map(len, text.split("\n"))) <= MAX_LINE


@settings(max_examples=40)
@given(data=st.data(), output_format=st.sampled_from(["text", "markdown", "json"]))
def test_count_prints_any_names_escaped_bounded_and_aligned(data, output_format, tmp_path_factory):
    """Whatever names a file holds, `count` prints only printable text, bounded lines and size, and an intact table."""
    config = _untrusted_model(data.draw)
    path = write_zip(tmp_path_factory.mktemp("untrusted") / "m.keras", {"config.json": json.dumps(config)})
    rows = len(count_config(path).rows)
    status, out, err = _run_count(path, output_format)
    assert status == 1  # the drawn class has no formula
    _assert_printable(out + err)
    assert len(out) <= MAX_BYTES_PER_ROW * (rows + 5)
    assert len(err.splitlines()) == 1
    if output_format == "json":
        document = json.loads(out)
        assert len(document["rows"]) == rows
    elif output_format == "markdown":
        lines = out.rstrip("\n").split("\n")
        assert len(lines) == rows + 3  # header, alignment, rows, total
        # Nine unescaped bars on every line: eight cells, none split or merged.
        assert {len(re.findall(r"(?<!\\)\|", line)) for line in lines} == {9}
    else:
        lines = out.rstrip("\n").split("\n")[2:]  # after the title and a blank line
        assert len(lines) == rows + 4  # header, rule, rows, rule, total
        rule = lines[1]
        assert set(rule) <= {"-", " "} and lines[-2] == rule
        # Every line has a space wherever the rule has its column gaps.
        gaps = [i for i, character in enumerate(rule) if character == " "]
        for line in lines:
            assert all(i >= len(line) or line[i] == " " for i in gaps), line


def test_a_huge_name_costs_one_bounded_cell_per_row(tmp_path):
    """A model named with 100,000 characters around 2,000 layers gives an output linear in the rows, not 500 MB."""
    inner = sequential(*[_dense(f"d{i}") for i in range(2000)], name="x" * 100_000)
    path = write_zip(tmp_path / "m.keras", {"config.json": json.dumps(sequential(inner, name="m"))})
    for output_format in ("text", "markdown", "json"):
        status, out, err = _run_count(path, output_format)
        assert status == 0
        assert len(out) <= MAX_BYTES_PER_ROW * 2005
        assert max(map(len, out.split("\n"))) <= MAX_LINE
    table = count_config(path)
    assert max(len(row.path) for row in table.rows) <= MAX_LINE


@given(name=strategies.untrusted_texts())
def test_errors_quoting_a_file_show_its_strings_escaped_and_bounded(name):
    """A refused layer's name, class and value reach the error message escaped and cut short."""
    layer = {**_dense(name, units=name), "class_name": "Dense"}
    with pytest.raises(ValueError) as error:
        count_config(sequential(layer, name=name))
    _assert_printable(str(error.value))
    assert len(str(error.value)) <= MAX_LINE


@given(class_name=strategies.untrusted_texts(), module=strategies.untrusted_texts(),
       name=strategies.untrusted_texts())
def test_check_file_errors_show_the_file_names_escaped_and_bounded(class_name, module, name, tmp_path_factory):
    """check_file's refusal names the layer, class and module of a file escaped, cut short, on one line."""
    from keras_recipes import saving

    layer = {**_dense(name), "class_name": class_name, "module": module}
    path = write_zip(tmp_path_factory.mktemp("untrusted") / "m.keras",
                     {"config.json": json.dumps(sequential(layer))})
    with pytest.raises(ValueError, match="Nothing in the file was loaded or run") as error:
        saving.check_file(path)
    _assert_printable(str(error.value))
    assert len(str(error.value)) <= MAX_LINE


def test_telling_shared_layers_from_copies_is_bounded_work(monkeypatch):
    """Many nested models holding same-named layers are compared within MAX_COMPARED, else refused."""
    monkeypatch.setattr(_saved, "MAX_COMPARED", 50)
    text = json.dumps(sequential(*[sequential(DENSE, name=f"m{i}") for i in range(40)]))
    with pytest.raises(ValueError, match="at most 50 comparisons"):
        count_config(text)
    monkeypatch.setattr(_saved, "MAX_COMPARED", 10_000)
    table = count_config(text)  # 40 copies of one Dense config, from a get_config()
    assert [row.status for row in table.rows[:4]] == ["nested", "formula", "nested", "unsupported"]


def test_count_shows_a_hostile_file_name_escaped(tmp_path):
    """A file whose own name holds an escape sequence is named escaped, in the table's title and in errors."""
    path = write_zip(tmp_path / "m\x1b]0;owned\x07.keras", {"config.json": json.dumps(sequential(DENSE))})
    status, out, err = _run_count(path, "text")
    assert status == 0 and "m\\x1b]0;owned\\x07.keras" in out
    _assert_printable(out + err)
    path.write_bytes(b"not a zip")
    status, out, err = _run_count(path, "text")
    assert status == 2 and "m\\x1b]0;owned\\x07.keras" in err
    _assert_printable(out + err)
    missing = tmp_path / "gone\r\x1b[2J.keras"
    status, out, err = _run_count(missing, "text")
    assert status == 2 and "gone\\x0d\\x1b[2J.keras" in err
    _assert_printable(out + err)
