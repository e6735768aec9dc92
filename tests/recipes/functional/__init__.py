"""Tests of the functional recipes: mlp, shared_mlp, branch_merge, averaging_layer and its FeatureMean layer."""
