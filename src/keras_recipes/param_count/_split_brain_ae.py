"""Parameter count of the split-brain autoencoder, from the builder's arguments."""

from keras_recipes import _split_brain_spec
from keras_recipes.param_count._count import ZERO
from keras_recipes.param_count._layers import batch_norm, conv


def split_brain_ae(
    input_shape,
    *,
    channel_groups=((0,), (1, 2)),
    loss="classification",
    num_l_bins=50,
    ab_bin_centers=None,
    architecture="alexnet",
    width_multiplier=1.0,
    optimizer="adam",
    seed=None,
    name="split_brain_ae",
):
    """Parameters of `keras_recipes.split_brain_ae(input_shape, ...)`.

    Per tower, for each convolution (conv1-5, fc6, fc7) a kernel without
    bias and a batch normalisation without scale and shift (its moving mean
    and variance: `2 * filters` non-trainable), then the 1x1 head with a
    bias. Tower 1 reads the channels of group 1 and predicts group 2; tower
    2 the other way round. Pooling and the channel split have no weights;
    the input's height and width change no count (the network is fully
    convolutional).

    Example:

    >>> split_brain_ae((180, 180, 3)).total  # the paper's AlexNet, 261 ab and 50 L bins
    29792263
    >>> split_brain_ae((32, 32, 3), architecture="small", width_multiplier=0.125)
    ParamCount(trainable=72921, non_trainable=856)
    """
    (
        _,
        channel_groups,
        losses,
        num_l_bins,
        ab_bin_centers,
        architecture,
        width_multiplier,
    ) = _split_brain_spec.arguments(
        input_shape,
        channel_groups,
        loss,
        num_l_bins,
        ab_bin_centers,
        architecture,
        width_multiplier,
    )
    rows = _split_brain_spec.tower_layers(architecture, width_multiplier)
    head_channels = _split_brain_spec.head_channels(
        channel_groups, losses, num_l_bins, ab_bin_centers
    )
    total = ZERO
    for group, outputs in zip(channel_groups, head_channels):
        channels = len(group)
        for _, kernel, _, _, filters in rows:
            if filters is None:
                continue
            total += conv(channels, filters, kernel, use_bias=False)
            total += batch_norm(filters, center=False, scale=False)
            channels = filters
        total += conv(channels, outputs, 1)
    return total
