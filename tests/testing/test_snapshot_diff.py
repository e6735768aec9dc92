"""`_snapshot.diff`: removed, added, changed, repeated and reordered rows, and the totals."""

from keras_recipes.testing._snapshot import Snapshot, diff


def row(path, trainable=0, class_name="Dense"):
    return {"path": path, "class_name": class_name, "build_shape": [None, 2], "trainable": trainable,
            "non_trainable": 0, "macs": trainable, "output_bytes": 8}


def snapshot(*rows):
    total = sum(item["trainable"] for item in rows)
    return Snapshot(rows=rows, totals={"trainable": total, "non_trainable": 0, "total": total,
                                       "macs": total})


def test_equal_snapshots_have_no_diff():
    """The same rows and totals give no line."""
    assert diff(snapshot(row("a", 3)), snapshot(row("a", 3))) == []


def test_removed_added_and_changed_rows_each_get_a_line_then_the_totals():
    """A dropped layer, a new layer and a changed class are named with their values, then the totals."""
    old = snapshot(row("a", 3), row("b", 4), row("c", 5))
    new = snapshot(row("a", 3), row("c", 5, class_name="EinsumDense"), row("d", 6))
    assert diff(old, new) == [
        'removed  b (Dense): build_shape [null, 2], trainable 4, non_trainable 0, macs 4, output_bytes 8',
        'changed  c (EinsumDense): class_name: snapshot "Dense", now "EinsumDense"',
        'added    d (Dense): build_shape [null, 2], trainable 6, non_trainable 0, macs 6, output_bytes 8',
        "totals: trainable: snapshot 12, now 14; total: snapshot 12, now 14; macs: snapshot 12, now 14",
    ]


def test_a_shared_layers_later_use_is_matched_by_use():
    """Rows of a repeated path are matched in order: a change in the second use names that use."""
    old = snapshot(row("shared", 3), row("shared", 0))
    new = snapshot(row("shared", 3), row("shared", 0, class_name="Functional"))
    assert diff(old, new) == [
        'changed  shared (use 2) (Functional): class_name: snapshot "Dense", now "Functional"'
    ]


def test_the_same_rows_in_another_order_say_so():
    """Swapped layers with equal totals give one line with the new order."""
    assert diff(snapshot(row("a", 1), row("b", 2)), snapshot(row("b", 2), row("a", 1))) == [
        "the same layers in another order: b, a"
    ]
