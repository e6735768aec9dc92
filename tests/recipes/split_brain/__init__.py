"""Tests of the split-brain autoencoder and its layers."""
