"""Draws docs/images/beta-schedules.png, the picture of the KL schedules on docs/vae_research.md.

The curves are the schedules' own values (`keras_recipes.losses`), not a
re-implementation, at every optimizer step of a run of the main job's size
(45 steps an epoch, 60 epochs). Run it after changing a schedule and commit
the picture (about 50 kB):

    python docs/beta_schedules.py [OUT.png]

Needs matplotlib (`pip install ".[examples]"`).
"""

import sys
from pathlib import Path

import numpy as np

OUT = Path(__file__).resolve().parent / "images" / "beta-schedules.png"
STEPS = 45 * 60  # the main job: 1438 digits in batches of 32, 60 epochs


def main(out=OUT):
    from matplotlib.figure import Figure

    from keras_recipes import losses

    steps = np.arange(STEPS)
    curves = [
        ("beta=1.0, the default (constant)", losses.ConstantBeta(1.0)),
        ("LinearBeta(warmup_steps=900)", losses.LinearBeta(900)),
        ("CyclicalBeta(period=675, ratio=0.5), 4 cycles", losses.CyclicalBeta(675, ratio=0.5)),
    ]
    figure = Figure(figsize=(7, 3.6), dpi=100)
    axes = figure.subplots()
    for (label, schedule), style in zip(curves, (":", "-", "--")):
        values = np.asarray(schedule(steps), dtype="float64")
        axes.plot(steps, values, style, label=label)
    axes.set_xlabel("optimizer step (45 per epoch in keras-recipes train vae)")
    axes.set_ylabel("beta, the KL weight")
    axes.set_ylim(-0.05, 1.15)
    axes.set_title("KL schedules over a 60-epoch run", fontsize=10)
    axes.legend(loc="lower right", fontsize=8)
    axes.grid(alpha=0.3)
    figure.subplots_adjust(left=0.1, right=0.97, bottom=0.15, top=0.9)
    figure.savefig(out, dpi=100, format="png")
    print(f"wrote {out}")


if __name__ == "__main__":
    main(Path(sys.argv[1]) if len(sys.argv) > 1 else OUT)
