"""Tests of the autoencoders: autoencoder, vae, their losses and the Sampling layer."""
