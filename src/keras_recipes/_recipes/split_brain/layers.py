"""The split-brain autoencoder's Keras classes: a channel selector and the model class.

`keras_recipes.layers` re-exports both, so that they are registered whenever
the package loads after Keras, as `keras.saving.load_model` needs.
"""

import keras
from keras import ops

from keras_recipes import _building, _validation, color
from keras_recipes._recipes.split_brain import spec


@keras.saving.register_keras_serializable(package="keras_recipes")
class SelectChannels(keras.layers.Layer):
    """Keeps the listed channels of the last axis, in the listed order.

    The split-brain autoencoder's input split: `SelectChannels([0])` is the
    L of a Lab image, `SelectChannels([1, 2])` its ab. The layer has no
    weights; unlike a `Lambda` around a slice, it loads with
    `safe_mode=True`.

    Args:
        channels: the channel indices to keep, a non-empty list of
            non-negative integers, each below the input's number of
            channels.

    Raises:
        ValueError: when `channels` is empty or holds a negative index, or,
            when the layer is built, an index beyond the input's channels.
        TypeError: when `channels` is not a list.

    Example:

    >>> import numpy as np
    >>> selected = SelectChannels([2, 0])(np.array([[1.0, 2.0, 3.0]]))
    >>> keras.ops.convert_to_numpy(selected).tolist()
    [[3.0, 1.0]]
    """

    def __init__(self, channels, **kwargs):
        super().__init__(**kwargs)
        if not _validation.is_sequence(channels):
            raise _validation.wrong_type(
                "channels", "a non-empty list of non-negative integers", channels
            )
        channels = list(channels)
        if not channels or any(
            not _validation.is_int(index) or index < 0 for index in channels
        ):
            raise ValueError(
                "Invalid value for argument `channels`: expected a non-empty "
                f"list of non-negative integers. Received: channels={channels!r}"
            )
        self.channels = [int(index) for index in channels]

    def _check_input(self, input_shape):
        """Refuse an input whose last axis lacks one of `channels`.

        Refused here because `ops.take` does not: out of range, JAX clamps
        or wraps the index, or returns NaN, and TensorFlow's CPU kernel
        fails only when the model runs.
        """
        available = input_shape[-1] if input_shape else None
        if available is None:
            return
        largest = max(self.channels)
        if largest >= available:
            raise _validation.invalid(
                "channels",
                f"indices below the input's {available} channels (the last axis "
                f"of the input of shape {tuple(input_shape)})",
                self.channels,
                f"Index {largest} is not a channel of this input",
            )

    def build(self, input_shape):
        self._check_input(input_shape)
        super().build(input_shape)

    def call(self, inputs):
        return ops.take(inputs, self.channels, axis=-1)

    def compute_output_shape(self, input_shape):
        self._check_input(input_shape)
        return (*input_shape[:-1], len(self.channels))

    def get_config(self):
        return {**super().get_config(), "channels": list(self.channels)}


def _downsample(images, size):
    """Images `(batch, H, W, C)` at `size = (h, w)`: the mean of each cell when h, w divide H, W.

    The paper quantises its targets after downsampling them to the head's
    resolution (12x12 for a 180x180 input: each target is the mean Lab
    colour of a 15x15 block). Sizes that do not divide fall back to an
    antialiased bilinear resize, which every backend supports.
    """
    height, width = images.shape[1], images.shape[2]
    if (height, width) == tuple(size):
        return images
    if height % size[0] == 0 and width % size[1] == 0:
        pool = (height // size[0], width // size[1])
        return ops.average_pool(
            images, pool, strides=pool, padding="valid", data_format=_building.IMAGE_FORMAT
        )
    return ops.image.resize(
        images,
        size,
        interpolation="bilinear",
        antialias=True,
        data_format=_building.IMAGE_FORMAT,
    )


@keras.saving.register_keras_serializable(package="keras_recipes")
class SplitBrainAutoencoder(keras.Model):
    """A functional split-brain autoencoder that derives its own training targets.

    Built by `keras_recipes.split_brain_ae()`; its graph is an ordinary
    functional model with two outputs, x2 predicted from x1 and x1 predicted
    from x2. What it adds: `targets(images)` computes each head's target from
    the input images (the target channel group, downsampled to the head's
    resolution, then quantised for a classification head), and
    `compute_loss` uses those targets whenever `fit` or `evaluate` get no
    `y`, so `model.fit(lab_images)` trains on images alone. Targets passed
    as `y` are used as given.

    Args:
        inputs: the functional graph's input tensor.
        outputs: its two output tensors, x2 from x1 then x1 from x2.
        name: model name.
        channel_groups: the two groups of input channels, x1 then x2.
        losses: `"classification"` or `"regression"` for each output.
        num_l_bins: number of L bins of a head that classifies L.
        ab_bin_centers: `None` (for `keras_recipes.color.ab_bin_centers()`)
            or a list of `(a, b)` centres, for a head that classifies ab.
    """

    def __init__(
        self,
        inputs,
        outputs,
        name=None,
        *,
        channel_groups,
        losses,
        num_l_bins,
        ab_bin_centers=None,
        **kwargs,
    ):
        # `(inputs, outputs, name)` first, as `Functional.__init__` has them:
        # Keras then serialises this model's graph as a functional config.
        super().__init__(inputs, outputs, name=name, **kwargs)
        self.channel_groups = tuple(tuple(group) for group in channel_groups)
        self.losses_per_output = tuple(losses)
        self.num_l_bins = int(num_l_bins)
        # Tuples, not lists: Keras would wrap a list attribute for tracking.
        self.ab_bin_centers = (
            None
            if ab_bin_centers is None
            else tuple(tuple(map(float, row)) for row in ab_bin_centers)
        )

    def targets(self, images, sizes=None):
        """The targets of both heads for Lab `images` `(batch, H, W, C)`.

        Args:
            images: the model's input images.
            sizes: the `(h, w)` of each head's predictions. Defaults to
                `None`: worked out from the model's output shapes.

        Returns:
            A list of two tensors, one per output: `int32` bin indices of
            shape `(batch, h, w)` for a classification head, float values
            `(batch, h, w, channels)` for a regression head.
        """
        images = ops.convert_to_tensor(images)
        if "float" not in keras.backend.standardize_dtype(images.dtype):
            images = ops.cast(images, "float32")
        if sizes is None:
            shapes = self.compute_output_shape(tuple(images.shape))
            sizes = [tuple(shape[1:3]) for shape in shapes]
        group_1, group_2 = self.channel_groups
        targets = []
        for target_group, loss, size in zip(
            (group_2, group_1), self.losses_per_output, sizes
        ):
            values = _downsample(ops.take(images, list(target_group), axis=-1), size)
            if loss == "regression":
                targets.append(values)
            elif target_group == (0,):
                targets.append(color.quantize_l(values[..., 0], self.num_l_bins))
            else:
                # Classification is only built for the L | ab split, so a
                # target group other than L is ab, in (1, 2) order.
                targets.append(color.quantize_ab(values, self.ab_bin_centers))
        return targets

    def compute_loss(self, x=None, y=None, y_pred=None, sample_weight=None, training=True):
        if y is None:
            sizes = [tuple(ops.shape(prediction)[1:3]) for prediction in y_pred]
            y = self.targets(x, sizes)
        return super().compute_loss(
            x=x, y=y, y_pred=y_pred, sample_weight=sample_weight, training=training
        )

    def get_config(self):
        # The functional graph's config, plus the constructor's own arguments.
        return {
            **super().get_config(),
            "channel_groups": [list(group) for group in self.channel_groups],
            "losses": list(self.losses_per_output),
            "num_l_bins": self.num_l_bins,
            "ab_bin_centers": (
                None
                if self.ab_bin_centers is None
                else [list(row) for row in self.ab_bin_centers]
            ),
        }

    @classmethod
    def from_config(cls, config, custom_objects=None):
        """Rebuild the model from `get_config()`'s dict, checked as `split_brain_ae()` checks.

        A file's config is checked with the builder's own checks
        (`spec.check_head_arguments`), against the rebuilt graph's
        input channels, and each head's width must be the one those
        arguments give, so an edited file is refused with a `ValueError`
        naming the key, as the builder would refuse the arguments.
        """
        own_keys = ("channel_groups", "losses", "num_l_bins", "ab_bin_centers")
        config = dict(_validation.check_config_keys("SplitBrainAutoencoder", config, own_keys))
        own = {key: config.pop(key) for key in own_keys}
        # Rebuild the graph as a plain functional model, then wrap the same
        # tensors (and so the same layers) in this class.
        graph = keras.Model.from_config(config, custom_objects=custom_objects)
        if len(graph.inputs) != 1 or len(graph.outputs) != 2:
            raise ValueError(
                "Invalid config for `SplitBrainAutoencoder`: expected a graph of one input "
                f"and two outputs. Received: {len(graph.inputs)} inputs and "
                f"{len(graph.outputs)} outputs"
            )
        channels = graph.inputs[0].shape[-1]
        groups, losses, num_l_bins, ab_bin_centers = spec.check_head_arguments(
            channels,
            own["channel_groups"],
            own["losses"],
            own["num_l_bins"],
            own["ab_bin_centers"],
            loss_name="losses",
        )
        expected = spec.head_channels(groups, losses, num_l_bins, ab_bin_centers)
        found = tuple(output.shape[-1] for output in graph.outputs)
        if found != expected:
            raise ValueError(
                "Invalid config for `SplitBrainAutoencoder`: the heads have "
                f"{found[0]} and {found[1]} outputs per position, where `channel_groups`, "
                f"`losses`, `num_l_bins` and `ab_bin_centers` give {expected[0]} and "
                f"{expected[1]}. Received: channel_groups={own['channel_groups']!r}, "
                f"losses={own['losses']!r}, num_l_bins={own['num_l_bins']!r}"
            )
        return cls(
            graph.inputs[0],
            graph.outputs,
            name=graph.name,
            channel_groups=groups,
            losses=losses,
            num_l_bins=num_l_bins,
            ab_bin_centers=ab_bin_centers,
        )
