"""Tests of the split-brain autoencoder and its SelectChannels layer."""
