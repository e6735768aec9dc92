"""Argparse `type`s for the command line's numeric options, made by one factory.

Every numeric option is parsed the same way: convert the text, check the
value, and refuse anything else with one message in the library's form,
``expected <what>. Received: --option='text'``, which argparse prints as
the command's one error line (exit status 2). `option_type` is that
factory; the functions below it are the kinds the commands use.

A bound on each option keeps `--batch-size 2**63` or `--epochs 10**400` on
the command line, where one line can refuse them, instead of letting them
reach the backend after the run directory exists.
"""

import argparse
from typing import NamedTuple

from keras_recipes._recipes.autoencoders import spec

# The largest integer an option takes unless it says otherwise: the int32
# that TensorFlow, JAX and PyTorch index and size tensors with.
MAX_OPTION_INT = 2**31 - 1


def option_type(option, convert, accept, expected):
    """Makes an argparse `type` that converts an option's text and checks the value.

    Args:
        option: the option's name as the user types it, e.g. `"--epochs"`,
            for the message.
        convert: a function from the text to the value; a `ValueError` it
            raises (not a number, more digits than Python converts) refuses
            the text.
        accept: a function from the converted value to whether it is valid.
        expected: what a valid value is, for the message, e.g.
            `"a positive number"`.

    Returns:
        A function from the option's text to its value, for argparse's
        `type=`.

    Raises:
        argparse.ArgumentTypeError: from the returned function, when the text
            does not convert or its value is not accepted, with the message
            ``expected <expected>. Received: <option>='<text>'``.

    Example:

    >>> parse = option_type("--rate", float, lambda value: 0 < value < 1, "a number in (0, 1)")
    >>> parse("0.5")
    0.5
    >>> parse("2")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected a number in (0, 1). Received: --rate='2'
    """

    def parse(text):
        try:
            value = convert(text)
        except ValueError:
            raise argparse.ArgumentTypeError(
                f"expected {expected}. Received: {option}={text!r}"
            ) from None
        if not accept(value):
            raise argparse.ArgumentTypeError(f"expected {expected}. Received: {option}={text!r}")
        return value

    parse.__name__ = option.lstrip("-").replace("-", "_")
    return parse


def positive_int(option, maximum=MAX_OPTION_INT):
    """An argparse `type` for a positive integer up to `maximum`.

    Args:
        option: the option's name, e.g. `"--epochs"`, for the message.
        maximum: the largest value accepted. Defaults to `MAX_OPTION_INT`.

    Returns:
        The parsing function, as `option_type` makes it.

    Example:

    >>> positive_int("--epochs")("3")
    3
    """
    return option_type(
        option, int, lambda value: 1 <= value <= maximum,
        f"a positive integer, at most {maximum:,}",
    )


def int_in_range(option, minimum, maximum, expected):
    """An argparse `type` for an integer from `minimum` to `maximum`, both included.

    Args:
        option: the option's name, e.g. `"--images"`, for the message.
        minimum: the smallest value accepted.
        maximum: the largest value accepted.
        expected: what a valid value is, for the message.

    Returns:
        The parsing function, as `option_type` makes it.

    Example:

    >>> int_in_range("--seed", 0, 2**32 - 1, "a non-negative integer below 2**32")("7")
    7
    """
    return option_type(option, int, lambda value: minimum <= value <= maximum, expected)


def positive_number(option):
    """An argparse `type` for a finite positive real number.

    Args:
        option: the option's name, e.g. `"--width-multiplier"`, for the message.

    Returns:
        The parsing function, as `option_type` makes it.

    Example:

    >>> positive_number("--width-multiplier")("0.25")
    0.25
    """
    # `nan` and `inf` convert, and this comparison refuses both.
    return option_type(option, float, lambda value: 0.0 < value < float("inf"),
                       "a positive number")


def _int_tuple(text):
    """`"512,256"` -> `(512, 256)`; empty parts are skipped."""
    return tuple(int(part) for part in text.split(",") if part.strip())


def positive_int_list(option, maximum=MAX_OPTION_INT):
    """An argparse `type` for comma-separated positive integers, each up to `maximum`.

    Args:
        option: the option's name, e.g. `"--hidden-units"`, for the message.
        maximum: the largest value accepted for each. Defaults to
            `MAX_OPTION_INT`.

    Returns:
        The parsing function, as `option_type` makes it; it returns a tuple.

    Example:

    >>> positive_int_list("--hidden-units")("512,256")
    (512, 256)
    """
    return option_type(
        option, _int_tuple, lambda values: all(1 <= value <= maximum for value in values),
        "comma-separated positive integers, e.g. 256 or 512,256, each at most "
        f"{maximum:,}",
    )


def number_in_range(option, maximum):
    """An argparse `type` for a real number from 0 to `maximum`, both included.

    Args:
        option: the option's name, e.g. `"--free-bits"`, for the message.
        maximum: the largest value accepted.

    Returns:
        The parsing function, as `option_type` makes it.

    Example:

    >>> number_in_range("--free-bits", 1000.0)("0")
    0.0
    """
    # `nan` converts, and this comparison refuses it.
    return option_type(option, float, lambda value: 0.0 <= value <= maximum,
                       f"a number between 0 and {maximum:g}")


class BetaScheduleOption(NamedTuple):
    """A parsed `--beta-schedule`: which schedule and its arguments, before Keras is imported.

    Passes `spec.check_beta(..., schedule=True)` as a schedule (it carries
    the marker), so the builder's checks refuse an `--objective iwae` with a
    schedule before the run starts; `build` makes the schedule object.
    """

    kind: str
    arguments: tuple
    text: str

    is_beta_schedule = True

    def __repr__(self):
        return repr(self.text)

    def build(self, losses):
        """The schedule of `keras_recipes.losses` (the module `losses`) this option names."""
        classes = {
            "constant": losses.ConstantBeta,
            "linear": losses.LinearBeta,
            "cyclical": losses.CyclicalBeta,
        }
        return classes[self.kind](*self.arguments)


BETA_SCHEDULE_SYNTAX = (
    "constant:VALUE, linear:WARMUP_STEPS[:VALUE] or cyclical:PERIOD[:RATIO[:VALUE]] "
    "(steps are optimizer steps; VALUE defaults to 1, RATIO to 0.5)"
)


def beta_schedule(option):
    """An argparse `type` for a KL schedule: `constant:1`, `linear:500`, `cyclical:400:0.5`.

    Each number is checked by the schedule's own check (the autoencoders'
    spec), so the option accepts what `keras_recipes.losses.LinearBeta`
    and the others accept.

    Example:

    >>> beta_schedule("--beta-schedule")("cyclical:400:0.25")
    'cyclical:400:0.25'
    >>> beta_schedule("--beta-schedule")("linear:0")
    Traceback (most recent call last):
    ...
    argparse.ArgumentTypeError: expected constant:VALUE, linear:WARMUP_STEPS[:VALUE] or cyclical:PERIOD[:RATIO[:VALUE]] (steps are optimizer steps; VALUE defaults to 1, RATIO to 0.5); WARMUP_STEPS must be a positive integer. Received: --beta-schedule='linear:0'
    """
    # Per kind: each part's name, its conversion and its check.
    parts = {
        "constant": (("VALUE", float, spec.check_beta),),
        "linear": (
            ("WARMUP_STEPS", int, lambda value: spec.check_schedule_steps("warmup_steps", value)),
            ("VALUE", float, spec.check_beta),
        ),
        "cyclical": (
            ("PERIOD", int, lambda value: spec.check_schedule_steps("period", value)),
            ("RATIO", float, spec.check_schedule_ratio),
            ("VALUE", float, spec.check_beta),
        ),
    }
    needed = {"constant": 1, "linear": 1, "cyclical": 1}
    expected = {
        "VALUE": "a number of at least 0",
        "WARMUP_STEPS": "a positive integer",
        "PERIOD": "a positive integer",
        "RATIO": "a number above 0 and at most 1",
    }

    def refuse(text, problem=""):
        detail = f"; {problem}" if problem else ""
        return argparse.ArgumentTypeError(
            f"expected {BETA_SCHEDULE_SYNTAX}{detail}. Received: {option}={text!r}"
        )

    def parse(text):
        kind, _, rest = text.partition(":")
        if kind not in parts or not rest:
            raise refuse(text)
        fields = rest.split(":")
        if not needed[kind] <= len(fields) <= len(parts[kind]):
            raise refuse(text)
        arguments = []
        for field, (name, convert, check) in zip(fields, parts[kind]):
            problem = f"{name} must be {expected[name]}"
            try:
                arguments.append(check(convert(field)))
            except (ValueError, TypeError):
                raise refuse(text, problem) from None
        return BetaScheduleOption(kind=kind, arguments=tuple(arguments), text=text)

    parse.__name__ = option.lstrip("-").replace("-", "_")
    return parse


def _host_and_port(text):
    """`"10.0.0.1:1234"` -> `"10.0.0.1:1234"`, or `ValueError`; IPv6 in brackets."""
    host, separator, port = text.rpartition(":")
    if not separator or not host or not port.isdigit() or not 1 <= int(port) <= 65535:
        raise ValueError(text)
    return text


def host_port(option):
    """An argparse `type` for a `HOST:PORT` address, port 1 to 65535.

    Args:
        option: the option's name, e.g. `"--coordinator"`, for the message.

    Returns:
        The parsing function, as `option_type` makes it; it returns the text.

    Example:

    >>> host_port("--coordinator")("127.0.0.1:1234")
    '127.0.0.1:1234'
    """
    return option_type(option, _host_and_port, lambda value: True,
                       "HOST:PORT with a port from 1 to 65535, e.g. 10.0.0.1:1234")
