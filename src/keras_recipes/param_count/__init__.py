"""Analytic parameter counts for Keras layers and for this library's recipes.

Pure Python: importing this module never imports Keras or TensorFlow, so it
answers in microseconds and can run where no deep-learning framework is
installed. Every function returns a `ParamCount` that equals what Keras
reports, `count_params()` as `.total` and the trainable/non-trainable split
as `.trainable` and `.non_trainable`.

Layer formulas take plain ints and mirror the Keras layer of the same name
(`dense` for `Dense`, `conv` for `Conv1D/2D/3D`, ...). Recipe functions
(`mlp`, `shared_mlp`, `branch_merge`, `averaging_layer`) take exactly the
arguments of the builder of the same name.

`count_model(model)` and `count_config(source)` give per-layer tables
(`ParamTable`) of any Sequential or Functional model, live or saved; the
latter reads a `.keras` file without importing Keras. See the "Counting
parameters" page of the docs. `training_memory(source, batch_size=...)`
estimates the memory of one training step from either (the "Will it fit?"
page).

Example:

>>> from keras_recipes import param_count
>>> param_count.dense(2, 3) + param_count.dense(3, 2) + param_count.dense(2, 3)
ParamCount(trainable=26, non_trainable=0)
>>> param_count.mlp(2, [3, 2, 3]).total
26
"""

from keras_recipes._counting.record import ZERO, ParamCount
from keras_recipes._counting.layers import (
    batch_norm,
    bidirectional,
    conv,
    conv_lstm,
    conv_transpose,
    dense,
    depthwise_conv,
    embedding,
    group_norm,
    gru,
    layer_norm,
    lstm,
    separable_conv,
    simple_rnn,
)
from keras_recipes.param_count._memory import TrainingMemory, training_memory
from keras_recipes.param_count._optimizers import OPTIMIZERS
from keras_recipes.param_count._readers import ConfigError
from keras_recipes.param_count._rules import (
    REGISTERED,
    layer_count,
    layer_macs,
    layer_output_shape,
    register,
)
from keras_recipes.param_count._saved import count_config
from keras_recipes.param_count._table import LayerRow, ParamTable
from keras_recipes.param_count._walk import count_model

# The recipes' counts live in their families' specs, which the builders read
# too (pure Python, like this package).
from keras_recipes._recipes.autoencoders.spec import autoencoder, vae
from keras_recipes._recipes.functional.spec import (
    averaging_layer,
    branch_merge,
    mlp,
    shared_mlp,
)
from keras_recipes._recipes.split_brain.spec import split_brain_ae

__all__ = [
    "ConfigError",
    "LayerRow",
    "OPTIMIZERS",
    "REGISTERED",
    "ZERO",
    "ParamCount",
    "ParamTable",
    "TrainingMemory",
    "autoencoder",
    "averaging_layer",
    "batch_norm",
    "bidirectional",
    "branch_merge",
    "conv",
    "conv_lstm",
    "conv_transpose",
    "count_config",
    "count_model",
    "dense",
    "depthwise_conv",
    "embedding",
    "group_norm",
    "gru",
    "layer_norm",
    "layer_count",
    "lstm",
    "register",
    "mlp",
    "separable_conv",
    "shared_mlp",
    "simple_rnn",
    "layer_macs",
    "layer_output_shape",
    "split_brain_ae",
    "training_memory",
    "vae",
]
