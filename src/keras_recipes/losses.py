"""Losses of the variational autoencoder, written with `keras.ops` only.

They take numpy arrays or tensors of any backend and return backend tensors,
so the same functions train a VAE on TensorFlow, JAX and PyTorch and can be
reused in research code. Their reduction is stated, never implied: the
issues users hit with VAE losses (keras-team/keras#3169, the lecture's own
slide) come from averaging one term and summing the other.

The KL schedules `vae(beta=...)` takes (`ConstantBeta`, `LinearBeta`,
`CyclicalBeta`) and the importance-weighted bound of the IWAE and of
`keras_recipes.vae_nll` are here too.

A face: the losses live with the autoencoders
(`keras_recipes/_recipes/autoencoders/losses.py`, `schedules.py`);
`ReconstructionError` and the schedules stay registered as
`keras_recipes>ReconstructionError`, `keras_recipes>LinearBeta`, ...
"""

from keras_recipes._recipes.autoencoders.losses import (
    GAUSSIAN_DECODER_VARIANCE,
    LOG_VAR_LIMIT,
    ReconstructionError,
    free_bits_kl,
    gaussian_kl_divergence,
    gaussian_log_density,
    importance_weighted_bound,
    kl_per_dimension,
    log_likelihood,
    reconstruction_error,
    vae_loss,
)
from keras_recipes._recipes.autoencoders.schedules import (
    BetaSchedule,
    ConstantBeta,
    CyclicalBeta,
    LinearBeta,
)

__all__ = [
    "GAUSSIAN_DECODER_VARIANCE",
    "LOG_VAR_LIMIT",
    "BetaSchedule",
    "ConstantBeta",
    "CyclicalBeta",
    "LinearBeta",
    "ReconstructionError",
    "free_bits_kl",
    "gaussian_kl_divergence",
    "gaussian_log_density",
    "importance_weighted_bound",
    "kl_per_dimension",
    "log_likelihood",
    "reconstruction_error",
    "vae_loss",
]
