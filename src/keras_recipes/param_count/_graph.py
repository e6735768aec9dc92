"""The one walker: the rows of a model from the uses of its layers, in order.

Two front ends resolve a model into uses of layers: `_walk` from a live
`keras.Model` (a layer is its object, its weights are real), `_saved` from a
`.keras` file's config (a layer is what its sharing marks and names say it
is, its outputs are what the graph records or the shape rules give). Each
use is a `LayerUse`; `GraphWalk.add` turns it into a row, always by the same
rules, so a layer both can resolve gets the same row from both:

- a layer met before (its `key`, or one of its `aliases`, has a row) gets a
  `"shared"` row of 0 and its MACs again;
- a use whose count cannot be known (`status`) a row of 0 and unknown MACs;
- a nested model a `"nested"` row, then its layers' rows (the front end
  walks them), then `GraphWalk.close` gives it their MACs;
- a wrapper around a layer met before (`wrapped_key`) a `"shared"` row of 0;
- any other layer the row of its first use, counted by its class's rule.

Rows are made here only, through `_rows`.
"""

from typing import Any, NamedTuple

from keras_recipes.param_count._rows import (
    finish_nested,
    first_use_row,
    nested_row,
    shared_row,
    uncounted_row,
    with_output_bytes,
)


class LayerUse(NamedTuple):
    """One use (call) of a layer or model, as a front end resolved it.

    Fields:
        path: the row's path.
        key: what identifies the layer: the same key for every use of one
            layer (a live layer's `id`, a saved layer's sharing mark).
        class_name: the layer's class name.
        config: its `get_config()` dict, or `None` (a use that is not
            counted: shared, nested, or with a `status`).
        build_config: its `get_build_config()` dict, or `None`.
        registered_name: its Keras registered name, or `None`.
        module: its class's module, or `None`.
        frozen: whether its weights are non-trainable.
        input_shape: the shape it was called on, or `None`.
        output_bytes: the bytes of the call's outputs the graph records, or
            `None`.
        counted_output_bytes: the bytes a counted first use shows instead,
            when known (a saved layer's, from the shape rules), or `None`.
        weights: a function giving the layer's real count (a live layer),
            used when no rule counts its class; `None` for a saved layer.
        nested: whether it is a model whose layers' uses follow.
        status: the status of a use whose count cannot be known (a row of 0
            and unknown MACs), or `None`.
        aliases: other keys the layer may have been met under, looked up
            when `key` has no row.
        name_key: a key also given the row of its first use, unless an
            earlier layer holds it.
        wrapped_key: the key of the layer it wraps (a `TimeDistributed`),
            or `None`.
        shown_class: the class name as its row shows it, or `None` for
            `class_name`.
    """

    path: str
    key: Any
    class_name: str
    config: Any = None
    build_config: Any = None
    registered_name: Any = None
    module: Any = None
    frozen: bool = False
    input_shape: Any = None
    output_bytes: Any = None
    counted_output_bytes: Any = None
    weights: Any = None
    nested: bool = False
    status: Any = None
    aliases: tuple = ()
    name_key: Any = None
    wrapped_key: Any = None
    shown_class: Any = None


class GraphWalk:
    """The rows of one walk and the first row of each layer met, by key.

    Args:
        strict: raise on a layer config its rule refuses (a saved file);
            when false, such a layer counts as unknown (a live model).
        max_rows: the most rows, or `None` for no limit. Defaults to `None`.

    Example:

    >>> walk = GraphWalk(strict=True)
    >>> config = {"name": "d", "units": 3}
    >>> row = walk.add(LayerUse(path="d", key=1, class_name="Dense", config=config,
    ...                         build_config={"input_shape": [None, 2]}))
    >>> (row.count.total, walk.add(LayerUse(path="d_1", key=1, class_name="Dense")).status)
    (9, 'shared')
    """

    def __init__(self, strict, max_rows=None):
        self.rows = []
        self.seen = {}
        self.strict = strict
        self.max_rows = max_rows
        # (start of the nested layers' rows, key) of each nested model open.
        self._open = []

    def earlier(self, key, aliases=()):
        """The first row of the layer known by `key` or `aliases`, or `None` when it is met for the first time."""
        row = self.seen.get(key)
        if row is None:
            for alias in aliases:
                row = self.seen.get(alias)
                if row is not None:
                    break
        return row

    def add(self, use):
        """Add and return the row of `use`; a `"nested"` row waits for `close`.

        Raises:
            ValueError: the walk would pass `max_rows`, or (`strict`) a
                layer's config is one Keras could not have built.
        """
        if self.max_rows is not None and len(self.rows) >= self.max_rows:
            raise ValueError(
                f"Invalid value for argument `source`: a model of at most {self.max_rows:,} "
                "layers. Received: a larger config"
            )
        first = self.earlier(use.key, use.aliases)
        if first is not None:
            row = shared_row(use.path, first, use.output_bytes)
            self.rows.append(row)
            return row
        shown_class = use.class_name if use.shown_class is None else use.shown_class
        if use.status is not None:
            row = uncounted_row(use.path, shown_class, use.build_config, use.output_bytes,
                                use.status)
        elif use.nested:
            row = nested_row(use.path, shown_class, use.build_config, use.output_bytes)
            self.rows.append(row)
            self._open.append((len(self.rows), use.key))
            return row
        elif use.wrapped_key is not None and use.wrapped_key in self.seen:
            # A wrapper around a layer already counted: it holds no weights
            # of its own.
            row = uncounted_row(use.path, shown_class, use.build_config, use.output_bytes,
                                "shared")
        else:
            row = first_use_row(
                use.path,
                use.class_name,
                use.config,
                use.build_config,
                registered_name=use.registered_name,
                module=use.module,
                frozen=use.frozen,
                input_shape=use.input_shape,
                weights=use.weights,
                strict=self.strict,
                shown_class=shown_class,
                output_bytes=(use.output_bytes if use.counted_output_bytes is None
                              else use.counted_output_bytes),
            )
            # A row that is not counted (unsupported) shows the bytes the
            # graph records.
            if row.output_bytes is None and use.output_bytes is not None:
                row = with_output_bytes(row, use.output_bytes)
            if use.wrapped_key is not None:
                self.seen[use.wrapped_key] = row
            if use.name_key is not None:
                self.seen.setdefault(use.name_key, row)
        self.rows.append(row)
        self.seen[use.key] = row
        return row

    def close(self):
        """Finish the nested model opened last, once its layers' rows are added; return its row.

        The nested row carries its layers' MACs, so that a later shared use
        of the model counts them again.
        """
        start, key = self._open.pop()
        row = self.rows[start - 1] = self.seen[key] = finish_nested(self.rows[start - 1],
                                                                    self.rows[start:])
        return row

    def set_output_bytes(self, index, output_bytes):
        """Give the row at `index` the bytes of its outputs (found once its layers are walked)."""
        self.rows[index] = with_output_bytes(self.rows[index], output_bytes)
