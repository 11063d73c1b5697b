"""The numbers the SteelNet paper reports, in one place (PAPER.md section 3).

Reports show these beside sksteel's own results, always labelled as the
paper's; nothing computed by sksteel is ever taken from here.
"""

__all__ = ["PAPER_RESULTS"]

#: Published results of the paper. Keys of ``"robustness_accuracy"`` are the
#: test-time missing-reading rates; ``"lda_accuracy"`` is the paper's LDA
#: baseline on the sensors alone (A.5); ``"dataset_statistics"`` are the
#: data set's statistics of A.3-A.5; ``"top_attributions"`` are the two
#: largest attribution shares per defect class (4.2).
PAPER_RESULTS = {
    "table1": {
        "accuracy": 0.892,
        "precision_weighted": 0.896,
        "recall_weighted": 0.892,
        "f1_weighted": 0.893,
    },
    "lda_accuracy": 0.84,
    "dataset_statistics": {
        "intensity of defective samples, mean": 0.347,
        "intensity of defective samples, sd": 0.198,
        "surface_cleanliness, non-defective, mean": 97.5,
        "surface_cleanliness, non-defective, sd": 1.8,
        "surface_cleanliness, defective, mean": 82.3,
        "surface_cleanliness, defective, sd": 8.4,
        "corr(vibration, drive_load)": 0.34,
        "corr(surface_cleanliness, intensity)": -0.52,
        "corr(spray_pressure, coating_viscosity)": 0.28,
        "corr(ambient_humidity, curing_time)": 0.19,
    },
    "attribution_mse": 0.0156,
    "top_attributions": {
        "crazing": {"curing_temperature": 0.345, "ambient_humidity": 0.251},
        "inclusion": {"surface_cleanliness": 0.398, "water_jet_pressure": 0.202},
        "patches": {"spray_pressure": 0.352, "coating_viscosity": 0.251},
        "pitted": {"ambient_humidity": 0.297, "surface_cleanliness": 0.248},
    },
    "robustness_accuracy": {0.0: 0.892, 0.1: 0.874, 0.2: 0.851, 0.3: 0.823, 0.5: 0.768},
    "ablation": {
        "full": {"accuracy": 0.892, "attribution_mse": 0.0156},
        "no_attention": {"accuracy": 0.876, "attribution_mse": 0.0189},
        "no_attribution_loss": {"accuracy": 0.883, "attribution_mse": 0.0234},
        "no_modality_dropout": {"accuracy": 0.857, "attribution_mse": 0.0167},
        "no_physics": {"accuracy": 0.885, "attribution_mse": 0.0201},
    },
}
