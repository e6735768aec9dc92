"""The functional recipes: `mlp`, `shared_mlp`, `branch_merge`, `averaging_layer`."""
