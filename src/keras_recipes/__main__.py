"""`python -m keras_recipes` runs the `keras-recipes` command line."""

from keras_recipes.cli import console_main

if __name__ == "__main__":
    console_main()
