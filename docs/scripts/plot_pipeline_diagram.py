"""The diagram of sksteel's two pipelines, for the concepts page.

Draws the simulation pipeline (Severstal table -> defect fractions ->
intensity -> sensors) above the learning pipeline (sensors with failures ->
modality dropout -> SteelNet -> outputs) and writes
``docs/images/pipeline.png``. The box labels are the public names the user
guide links to.

Run from the project root: ``python docs/scripts/plot_pipeline_diagram.py``.
"""

from pathlib import Path

import matplotlib

matplotlib.use("Agg")
import matplotlib.pyplot as plt
from matplotlib.patches import FancyArrowPatch, FancyBboxPatch

OUT = Path(__file__).resolve().parents[1] / "images" / "pipeline.png"

BOX_WIDTH, BOX_HEIGHT = 2.3, 1.25
COLOURS = {
    "data": "#eef3f8",
    "step": "#d8e8f5",
    "sampler": "#fde9d2",
    "model": "#dcefdc",
    "output": "#f3f3f3",
}

#: (x, y, title, detail, kind) of each box; x, y are box centres.
SIMULATION = [
    (1.4, 4.6, "Severstal table", "load_severstal\nor make_steel_surfaces", "data"),
    (4.2, 4.6, "RLEDecoder", "per-class defect\nfractions f1..f4", "step"),
    (7.0, 4.6, "IntensityScorer", "sum w_c f_c,\nnormalised", "step"),
    (9.8, 4.6, "ProcessParameter-\nSynthesizer",
     "ten sensors from\nclass and intensity", "step"),
]
IMAGE_MODEL = (4.2, 6.35, "DefectFractionRegressor",
               "optional: fractions\nfrom the images", "model")
LEARNING = [
    (1.4, 1.5, "Sensor readings", "missing = NaN\n(SensorFailure at test)", "data"),
    (4.2, 1.5, "ModalityDropout", "readings dropped\nwhile fitting only", "sampler"),
    (7.0, 1.5, "SteelNetClassifier", "encoder, attention,\nphysics branch", "model"),
    (9.8, 1.5, "Outputs",
     "predict, predict_proba,\npredict_intensity, explain", "output"),
]


def draw_box(ax, x, y, title, detail, kind):
    """A rounded box with a bold title over a smaller detail line."""
    ax.add_patch(
        FancyBboxPatch(
            (x - BOX_WIDTH / 2, y - BOX_HEIGHT / 2), BOX_WIDTH, BOX_HEIGHT,
            boxstyle="round,pad=0.02,rounding_size=0.12",
            facecolor=COLOURS[kind], edgecolor="#4a4a4a", linewidth=1.0,
        )
    )
    ax.text(x, y + 0.22, title, ha="center", va="center", fontsize=9.5,
            fontweight="bold", linespacing=1.0)
    ax.text(x, y - 0.3, detail, ha="center", va="center", fontsize=7.8,
            color="#333333", linespacing=1.1)


def arrow(ax, start, end, *, style="-|>", dashed=False, colour="#4a4a4a"):
    ax.add_patch(
        FancyArrowPatch(
            start, end, arrowstyle=style, mutation_scale=12, linewidth=1.2,
            color=colour, linestyle="--" if dashed else "-",
            shrinkA=0, shrinkB=0,
        )
    )


def chain(ax, boxes):
    """Boxes joined left to right."""
    for box in boxes:
        draw_box(ax, *box)
    for (x0, y0, *_), (x1, y1, *_) in zip(boxes, boxes[1:]):
        arrow(ax, (x0 + BOX_WIDTH / 2, y0), (x1 - BOX_WIDTH / 2, y1))


def main():
    fig, ax = plt.subplots(figsize=(11, 7.2))
    ax.set_xlim(0, 11.2)
    ax.set_ylim(0.3, 7.4)
    ax.set_axis_off()

    ax.text(5.7, 6.35, "1  Simulation pipeline  (make_steelnet_dataset)",
            fontsize=11, fontweight="bold", color="#1f4e79", va="center")
    ax.text(1.75, 2.45, "2  Learning pipeline  (imblearn Pipeline)",
            fontsize=11, fontweight="bold", color="#1f4e79", va="center")
    chain(ax, SIMULATION)
    chain(ax, LEARNING)

    # The image model can replace the mask fractions.
    draw_box(ax, *IMAGE_MODEL)
    arrow(ax, (IMAGE_MODEL[0], IMAGE_MODEL[1] - BOX_HEIGHT / 2),
          (SIMULATION[1][0], SIMULATION[1][1] + BOX_HEIGHT / 2), dashed=True)

    # The simulation hands the learning pipeline its data and ground truth.
    x_sim, y_sim = SIMULATION[-1][:2]
    x_learn, y_learn = LEARNING[0][:2]
    corner_y = (y_sim + y_learn) / 2 + 0.05
    ax.plot([x_sim, x_sim, x_learn], [y_sim - BOX_HEIGHT / 2, corner_y, corner_y],
            color="#4a4a4a", linewidth=1.2)
    arrow(ax, (x_learn, corner_y), (x_learn, y_learn + BOX_HEIGHT / 2))
    ax.text((x_sim + x_learn) / 2, corner_y + 0.12,
            "X: ten sensors    y: defect class (0-4)    intensity    "
            "attribution_prior (ground truth)",
            ha="center", va="bottom", fontsize=8.5, color="#333333")

    ax.text(5.6, 0.45,
            "Orange: imbalanced-learn sampler, active during fit only.   "
            "Green: torch models trained through skorch.",
            ha="center", fontsize=8, color="#555555")
    fig.tight_layout()
    OUT.parent.mkdir(parents=True, exist_ok=True)
    fig.savefig(OUT, dpi=110)
    print(f"wrote {OUT}")


if __name__ == "__main__":
    main()
