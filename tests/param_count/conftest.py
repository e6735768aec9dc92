"""Fixtures of the parameter-counting tests."""

import pytest

from keras_recipes.param_count import _rules


@pytest.fixture
def rules():
    """The registered rules, restored after the test."""
    saved = dict(_rules._REGISTERED)
    yield
    _rules._REGISTERED.clear()
    _rules._REGISTERED.update(saved)
