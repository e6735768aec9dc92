"""The training-memory options of `count` and `summary`: `--batch-size`, `--dtype-policy`, `--fits-in`.

Both commands print `param_count.training_memory`'s parts under their table
when `--batch-size` or `--fits-in` is given: text and Markdown as a small
table of parts, JSON as a `"training_memory"` key beside the table's. CSV
holds the rows only (no total line), so it refuses these options with one
line instead of dropping the figures silently.
"""

from keras_recipes.cli._option_types import option_type, positive_int
from keras_recipes.param_count._memory import DTYPE_POLICIES, SIZE_EXPECTED, parse_size
from keras_recipes.param_count._optimizers import OPTIMIZERS


def _size(text):
    """A budget: plain digits are bytes, else a number and a unit (`16GiB`)."""
    return parse_size("--fits-in", int(text) if text.strip().isdigit() else text)


def add_memory_options(parser, *, optimizer=True):
    """Add the options to `parser`; `optimizer=False` where a recipe's own `--optimizer` decides."""
    group = parser.add_argument_group(
        "training memory",
        "estimate the memory of one training step (keras_recipes.param_count."
        "training_memory): parameters, gradients, optimizer state, activations, batch",
    )
    group.add_argument(
        "--batch-size", type=positive_int("--batch-size"), default=None, metavar="N",
        help="print the estimate at this batch size under the table",
    )
    if optimizer:
        group.add_argument(
            "--optimizer", default="adam", metavar="NAME",
            type=option_type("--optimizer", str.lower, lambda name: name in OPTIMIZERS,
                             f"one of {', '.join(OPTIMIZERS)}"),
            help=f"the optimizer whose slots to count: {', '.join(OPTIMIZERS)} (default: adam)",
        )
    group.add_argument(
        "--dtype-policy", default="float32", metavar="POLICY",
        type=option_type("--dtype-policy", str, lambda name: name in DTYPE_POLICIES,
                         f"one of {', '.join(DTYPE_POLICIES)}"),
        help=f"{', '.join(DTYPE_POLICIES)} (default: float32)",
    )
    group.add_argument(
        "--fits-in", type=option_type("--fits-in", _size, lambda size: True, SIZE_EXPECTED),
        default=None, metavar="SIZE",
        help="also print the largest batch whose estimate fits in SIZE, e.g. 16GiB or 512MB "
        "(KB, MB, GB are powers of 1000; KiB, MiB, GiB powers of 1024)",
    )


def wants_memory(args):
    """Whether the command was asked for the estimate."""
    return args.batch_size is not None or args.fits_in is not None


def estimate(source, args, optimizer):
    """`training_memory` of `source` as the options ask (batch size 1 when only `--fits-in` is given)."""
    from keras_recipes.param_count import training_memory

    return training_memory(source, batch_size=args.batch_size or 1, optimizer=optimizer,
                           dtype_policy=args.dtype_policy)


def memory_data(memory, args):
    """The estimate as plain data, with `"fits_in"` and `"largest_batch"` when asked."""
    data = memory.to_dict()
    if args.fits_in is not None:
        data["fits_in"] = args.fits_in
        data["largest_batch"] = memory.largest_batch(args.fits_in)
    return data


def memory_text(memory, args, markdown=False):
    """The estimate as text (`str(memory)`) or a Markdown table, and the largest batch when asked."""
    if markdown:
        lines = [f"Training memory, batch {memory.batch_size:,}, {memory.dtype_policy}:", "",
                 "| part | bytes |", "| --- | ---: |"]
        lines += [f"| {label} | {size:,} |" for label, size in memory.lines()]
    else:
        lines = [str(memory)]
    if args.fits_in is not None:
        lines += ["", f"Largest batch in {args.fits_in:,} bytes: "
                      f"{memory.largest_batch(args.fits_in):,}"]
    return "\n".join(lines)
