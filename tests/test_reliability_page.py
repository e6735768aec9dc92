"""docs/reliability.md quotes the test tables' own sizes: the page cannot drift from the tests."""

import re
from pathlib import Path

from cli import test_bad_runs as test_cli_bad_runs
import test_crafted_configs
import test_hostile_files
import test_invalid_arguments
from test_recipes import RECIPES

PAGE = (Path(__file__).resolve().parents[1] / "docs" / "reliability.md").read_text(encoding="utf-8")


def _row(first_cell):
    """The cells of the page's table row whose first cell is `first_cell`."""
    for line in PAGE.splitlines():
        cells = [cell.strip() for cell in line.strip().strip("|").split("|")]
        if cells[0] == first_cell:
            return cells
    raise AssertionError(f"docs/reliability.md has no table row {first_cell!r}")


def _max_examples(test):
    return test._hypothesis_internal_use_settings.max_examples


def test_invalid_argument_rows_are_the_hypothesis_settings():
    """Each builder's row says the number of calls its Hypothesis test draws, all refused."""
    examples = test_invalid_arguments.EXAMPLES
    for builder in test_invalid_arguments.INVALID_CALLS:
        assert _row(f"`{builder}`")[1:] == [str(examples), str(examples)]
    module = test_invalid_arguments
    for first_cell, test in [
        ("`submodel`", module.test_submodel_refuses_invalid_arguments),
        ("`layers.Sampling(seed=...)`", module.test_sampling_refuses_invalid_seeds),
        ("`layers.SelectChannels(channels)`", module.test_select_channels_refuses_invalid_channels),
        ("`losses.ReconstructionError(...)`", module.test_reconstruction_error_refuses_unknown_losses),
    ]:
        assert _row(first_cell)[1:] == [str(_max_examples(test))] * 2


def test_file_and_recipe_counts_are_the_test_tables():
    """The crafted files, the bad data files and the recipe configurations are counted as the tests hold them."""
    cases = len(test_hostile_files.CASES)
    uncountable = len(test_hostile_files.UNCOUNTABLE)
    left_to_keras = len(test_hostile_files.LEFT_TO_KERAS)
    assert f"{cases} `.keras` files crafted by hand" in PAGE
    assert _row("loader")[1] == f"{cases} crafted files"
    assert f"{cases - left_to_keras} by its own check" in PAGE
    assert f"{left_to_keras} (an unknown class" in PAGE
    assert f"{uncountable} files with a class it has no formula for" in PAGE
    assert f"{cases - uncountable} are counted" in PAGE
    assert f"exit status 1 for those {uncountable}, 0 for the other {cases - uncountable}" in PAGE
    assert f"{len(test_cli_bad_runs.BAD_FILES)} files (NaN" in PAGE
    assert f"each of the {len(RECIPES)} configurations" in PAGE
    trains = re.findall(r"\| (\d+) of (\d+) \| (\d+) of (\d+) \|", PAGE)
    assert trains and all(set(row) == {str(len(RECIPES))} for row in trains)


def test_new_user_and_attacker_counts_are_the_tests_own():
    """The review section quotes the Hypothesis file examples and the crafted-config cases as the tests hold them."""
    assert f"`FILE_EXAMPLES` = {test_cli_bad_runs.FILE_EXAMPLES} arbitrary `.npy` files" in PAGE
    assert f"and {test_cli_bad_runs.FILE_EXAMPLES} arbitrary `.npz` archives" in PAGE
    assert f"{len(test_crafted_configs.CASES)} files, each with one key" in PAGE
