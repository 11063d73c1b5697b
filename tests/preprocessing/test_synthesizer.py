"""Tests of ProcessParameterSynthesizer, the three-stage sensor generator."""

import numpy as np
import pandas as pd
import pytest
from scipy import stats

from sksteel._schema import SENSOR_NAMES, SENSORS
from sksteel.preprocessing import ProcessParameterSynthesizer
from sksteel.preprocessing._synthesizer import (
    CLASS_PROFILES,
    DRIFT,
    EXPRESSION,
    EXPRESSION_COUPLING,
)

N_PER_CLASS = 4000


@pytest.fixture(scope="module")
def rows():
    """Every class, with intensities spread over [0, 1]."""
    rng = np.random.RandomState(0)
    classes = np.repeat(np.arange(5), N_PER_CLASS)
    intensity = np.where(classes > 0, rng.beta(1.66, 3.12, classes.size), 0.0)
    return pd.DataFrame({"defect_class": classes, "intensity": intensity})


def _readings(rows, **params):
    synthesizer = ProcessParameterSynthesizer(random_state=0, **params)
    return pd.DataFrame(synthesizer.fit_transform(rows), columns=SENSOR_NAMES)


def test_synthesizer_normal_rows_centred_on_normal_ranges(rows):
    """Check that non-defective readings, after all three stages, sit in the
    middle of their normal ranges."""
    normal = _readings(rows)[rows["defect_class"].to_numpy() == 0]
    middle = (SENSORS["low"] + SENSORS["high"]) / 2
    width = SENSORS["high"] - SENSORS["low"]
    np.testing.assert_allclose(normal.mean(), middle, atol=0.03 * width.max())
    assert ((normal.mean() - middle).abs() / width < 0.03).all()


def _sides(entry):
    """The ``(low, high, shift)`` triples of a profile entry."""
    return entry if isinstance(entry[0], tuple) else (entry,)


def _on_side(readings, sensor, low, high):
    """Rows whose reading lies on the same side of the normal middle as the
    class range ``[low, high]``."""
    middle = SENSORS.loc[sensor, ["low", "high"]].mean()
    return (readings[sensor] > middle) == ((low + high) / 2 > middle)


@pytest.mark.parametrize(
    "label, sensor, low, high, shift",
    [
        (label, sensor, *point)
        for label, profile in CLASS_PROFILES.items()
        for sensor, entry in profile.items()
        for point in _sides(entry)
    ],
)
def test_synthesizer_stage1_as_written(rows, label, sensor, low, high, shift):
    """Check Stage 1 of fully expressed defects with the other stages off: a
    class reading is uniform on its range (on its side, for a two-sided
    sensor) plus ``intensity * shift`` plus noise of sd ``0.02 |shift|``."""
    readings = _readings(
        rows, expression=None, interactions=False, drift=False, couplings={}
    )
    mask = (rows["defect_class"] == label) & _on_side(readings, sensor, low, high)
    s, x = rows["intensity"][mask].to_numpy(), readings[sensor][mask].to_numpy()
    slope, intercept = np.polyfit(s, x, 1)
    expected_sd = np.sqrt((high - low) ** 2 / 12 + (0.02 * shift) ** 2)
    # Least-squares standard errors of the slope and the intercept.
    slope_error = expected_sd / (s.std() * np.sqrt(len(s)))
    intercept_error = slope_error * np.sqrt(s.var() + s.mean() ** 2)
    assert slope == pytest.approx(shift, abs=4 * slope_error)
    assert intercept == pytest.approx((low + high) / 2, abs=4 * intercept_error)
    residual = x - (intercept + slope * s)
    assert residual.std() == pytest.approx(expected_sd, rel=0.05)


def test_synthesizer_two_sided_sensors_share_a_side(rows):
    """Check that the two-sided sensors of a class leave their normal range
    on the same side in each row, each side in about half of the rows."""
    readings = _readings(rows, expression=None, interactions=False, drift=False)
    for label, profile in CLASS_PROFILES.items():
        two_sided = [name for name, entry in profile.items() if len(_sides(entry)) == 2]
        if not two_sided:
            continue
        rows_c = readings[rows["defect_class"].to_numpy() == label]
        sides = pd.DataFrame(
            {
                name: _on_side(rows_c, name, *_sides(profile[name])[0][:2])
                for name in two_sided
            }
        )
        assert (sides.nunique(axis=1) == 1).all()
        assert sides.iloc[:, 0].mean() == pytest.approx(0.5, abs=0.03)


@pytest.fixture(scope="module")
def expression(rows):
    """The expression e of each crazing and patches row, recovered from a
    one-sided sensor without shift: ``1 - e = (full - mixed) / (full -
    normal)`` on the same draws, the other stages off."""
    settings = {"interactions": False, "drift": False, "couplings": {}}
    mixed = _readings(rows, **settings)
    full = _readings(rows, expression=None, **settings)
    normal = _readings(rows.assign(defect_class=0), **settings)
    recovered = {}
    for label, profile in CLASS_PROFILES.items():
        for sensor, entry in profile.items():
            if len(_sides(entry)) == 1 and entry[2] == 0 and label not in recovered:
                mask = rows["defect_class"].to_numpy() == label
                gap = full[sensor][mask] - normal[sensor][mask]
                share = (full[sensor][mask] - mixed[sensor][mask]) / gap
                recovered[label] = 1 - share
    return mixed, full, normal, recovered


def test_synthesizer_expression_mixes_operating_points(rows, expression):
    """Check that a defect's operating point lies a fraction e of the way
    from its normal draw to its class draw, one e per row for all of its
    class's sensors (either side), the intensity shift and noise unchanged."""
    mixed, full, normal, recovered = expression
    assert len(recovered) >= 2
    for label, e in recovered.items():
        assert ((e >= -1e-9) & (e <= 1 + 1e-9)).all()
        for sensor, entry in CLASS_PROFILES[label].items():
            for low, high, shift in _sides(entry):
                side = _on_side(full.loc[e.index], sensor, low, high)
                rows_s = e.index[side.to_numpy()]
                s = rows["intensity"][rows_s]
                # full - mixed = (1 - e) (class draw - normal draw); the class
                # draw is the full reading less the shift and the noise.
                class_gap = full[sensor][rows_s] - normal[sensor][rows_s] - s * shift
                np.testing.assert_allclose(
                    full[sensor][rows_s] - mixed[sensor][rows_s],
                    (1 - e[rows_s]) * class_gap,
                    atol=0.1 * abs(shift) + 1e-9,
                )


def test_synthesizer_expression_distribution(rows, expression):
    """Check that e follows Beta(a, b) and rises with the intensity, with
    the configured rank correlation: 6 / pi * arcsin(rho / 2)."""
    *_, recovered = expression
    e = pd.concat(recovered.values())
    expected = stats.beta(*EXPRESSION)
    assert e.mean() == pytest.approx(expected.mean(), abs=0.02)
    assert e.std() == pytest.approx(expected.std(), abs=0.02)
    assert stats.kstest(e, expected.cdf).statistic < 0.03
    s = rows["intensity"][e.index]
    rank_corr = stats.spearmanr(e, s).statistic
    expected_corr = 6 / np.pi * np.arcsin(EXPRESSION_COUPLING / 2)
    assert rank_corr == pytest.approx(expected_corr, abs=0.05)


def test_synthesizer_stage2_rules_as_written(rows):
    """Check rules 8-10 exactly, against the same draws without them."""
    off = _readings(rows, interactions=False, drift=False)
    on = _readings(rows, drift=False)
    viscous = off["coating_viscosity"] > 120
    np.testing.assert_allclose(
        on["spray_pressure"],
        np.minimum(off["spray_pressure"] * (1 + 0.1 * viscous), 3.0),
    )
    # Stage 1 divides curing time by 0.9 and cleanliness by 0.95 when the
    # rules are on (their factors in normal operation).
    humid = off["ambient_humidity"] > 70
    np.testing.assert_allclose(
        on["curing_time"],
        np.maximum(off["curing_time"] / 0.9 * (0.9 + 0.1 * humid), 8.0),
    )
    weak_jet = off["water_jet_pressure"] < 160
    expected = np.maximum(
        off["surface_cleanliness"] / 0.95 * (0.95 + 0.05 * weak_jet), 60.0
    )
    np.testing.assert_allclose(on["surface_cleanliness"], np.minimum(expected, 100))
    assert humid.sum() > 1000 and weak_jet.sum() > 1000 and viscous.sum() > 1000
    others = ["ambient_humidity", "coating_viscosity", "curing_temperature"]
    pd.testing.assert_frame_equal(on[others], off[others])


@pytest.mark.parametrize("sensor, bounds", DRIFT.items())
def test_synthesizer_stage3_drift(rows, sensor, bounds):
    """Check that drift multiplies its sensors by a factor in its range and
    leaves the others alone."""
    off = _readings(rows, interactions=False, drift=False)
    on = _readings(rows, interactions=False)
    gain = np.mean(bounds)  # Stage 1 is divided by the mean drift
    percent = SENSORS.loc[sensor, "unit"] == "%"
    unclipped = on[sensor] < (100 if percent else np.inf)
    factor = (on[sensor] / off[sensor] * gain)[unclipped]
    assert factor.min() >= bounds[0] - 1e-9 and factor.max() <= bounds[1] + 1e-9
    assert factor.std() == pytest.approx((bounds[1] - bounds[0]) / 12**0.5, rel=0.05)
    untouched = [name for name in SENSOR_NAMES if name not in DRIFT]
    pd.testing.assert_frame_equal(on[untouched], off[untouched])


def test_synthesizer_deviations_off_removes_class_signal(rows):
    """Check that without Stage 1 profiles every class reads as normal."""
    readings = _readings(rows, deviations=False, couplings={})
    means = readings.groupby(rows["defect_class"].to_numpy()).mean()
    spread = (means.max() - means.min()) / (SENSORS["high"] - SENSORS["low"])
    assert (spread < 0.05).all()


@pytest.mark.parametrize(
    "couplings, expected",
    [(None, 0.385), ({}, 0.0), ({("vibration", "drive_load"): 0.8}, 0.786)],
)
def test_synthesizer_couplings(rows, couplings, expected):
    """Check that the copula correlates uniform readings as configured:
    Pearson r = 6 / pi * arcsin(rho / 2)."""
    readings = _readings(rows, drift=False, couplings=couplings)
    normal = readings[rows["defect_class"].to_numpy() == 0]
    r = normal["vibration"].corr(normal["drive_load"])
    assert r == pytest.approx(expected, abs=0.04)


def test_synthesizer_readings_within_physical_bounds(rows):
    """Check that no reading is negative and no percentage exceeds 100."""
    readings = _readings(rows)
    assert (readings >= 0).all().all()
    percent = SENSORS.index[SENSORS["unit"] == "%"]
    assert (readings[percent] <= 100).all().all()
    assert (readings["spray_pressure"] <= 3.0).all()


def test_synthesizer_deterministic(rows):
    """Check that an int seed repeats the readings and another changes them."""
    synthesizer = ProcessParameterSynthesizer(random_state=7).fit(rows)
    np.testing.assert_array_equal(
        synthesizer.transform(rows), synthesizer.transform(rows)
    )
    other = ProcessParameterSynthesizer(random_state=8).fit_transform(rows)
    assert not np.allclose(other, synthesizer.transform(rows))


def test_synthesizer_attribution_prior(rows):
    """Check the prior: one distribution per class over the sensors, uniform
    for class 0, zero on sensors a class and the rules leave alone, and the
    profiled sensors on top."""
    prior = ProcessParameterSynthesizer().fit(rows).attribution_prior_
    assert list(prior.columns) == list(SENSOR_NAMES)
    assert list(prior.index) == [0, 1, 2, 3, 4]
    np.testing.assert_allclose(prior.sum(axis=1), 1.0)
    np.testing.assert_allclose(prior.loc[0], 0.1)
    for label, profile in CLASS_PROFILES.items():
        row = prior.loc[label]
        assert set(row.nlargest(len(profile)).index) <= set(profile) | {"curing_time"}
        assert row["water_flow_rate"] == 0 and row["drive_load"] == 0
    # Rule 9 lengthens the curing time of humid rows: pitted ones, and only
    # the most intense crazing ones.
    assert prior.loc[4, "curing_time"] > 0.02 > prior.loc[1, "curing_time"]
    assert prior.loc[2, "curing_time"] == 0


#: The two top attributions per class that the paper's model reports (4.2),
#: in its order. Pitted is compared as a set: the defective cleanliness
#: statistics of A.3 need pitted surfaces dirtier than its humidity is high
#: (see docs/dataset.md).
PAPER_TOP_TWO = {
    1: ["curing_temperature", "ambient_humidity"],
    2: ["surface_cleanliness", "water_jet_pressure"],
    3: ["spray_pressure", "coating_viscosity"],
    4: ["ambient_humidity", "surface_cleanliness"],
}


@pytest.mark.parametrize("label, top_two", PAPER_TOP_TWO.items())
def test_synthesizer_attribution_prior_matches_paper_top_two(rows, label, top_two):
    """Check that each class's two largest prior weights are on the two
    sensors the paper's attributions put on top, in its order (pitted: as a
    set)."""
    prior = ProcessParameterSynthesizer().fit(rows).attribution_prior_
    largest = prior.loc[label].nlargest(2).index.tolist()
    if label == 4:
        assert set(largest) == set(top_two)
    else:
        assert largest == top_two


def test_synthesizer_attribution_prior_ignores_data(rows):
    """Check that the prior depends on the generator, not on X."""
    full = ProcessParameterSynthesizer().fit(rows).attribution_prior_
    few = ProcessParameterSynthesizer().fit(rows.iloc[:10]).attribution_prior_
    pd.testing.assert_frame_equal(full, few)


def test_synthesizer_column_names_and_arrays(rows):
    """Check custom column names, extra ignored columns and array input."""
    renamed = rows.rename(columns={"defect_class": "label", "intensity": "s"})
    renamed["image_id"] = "x.jpg"
    synthesizer = ProcessParameterSynthesizer(
        class_column="label", intensity_column="s", random_state=0
    ).set_output(transform="pandas")
    readings = synthesizer.fit_transform(renamed)
    assert list(readings.columns) == list(SENSOR_NAMES)
    from_array = ProcessParameterSynthesizer(random_state=0).fit_transform(
        rows.to_numpy()
    )
    np.testing.assert_allclose(readings.to_numpy(), from_array)


@pytest.mark.parametrize(
    "frame, match",
    [
        (pd.DataFrame({"defect_class": [0, 7, 5], "intensity": 0.1}), r"\[5.0, 7.0\]"),
        (pd.DataFrame({"defect_class": [0, 1]}), r"\['intensity'\] not found"),
        (pd.DataFrame({"intensity": [0.1, 0.2]}), r"\['defect_class'\] not found"),
        (pd.DataFrame({"defect_class": [1, 2], "intensity": [0.2, np.nan]}), "nan"),
        (pd.DataFrame({"defect_class": [1, 2], "intensity": [-0.2, 0.5]}), "-0.2"),
        (pd.DataFrame({"defect_class": [1, 2], "intensity": [0.2, 1.5]}), "1.5"),
        (np.zeros((3, 3)), "two columns"),
    ],
)
def test_synthesizer_bad_input(frame, match):
    """Check that bad classes, missing columns and bad intensities are clear
    errors."""
    with pytest.raises(ValueError, match=match):
        ProcessParameterSynthesizer().fit(frame)


@pytest.mark.parametrize(
    "expression, match",
    [
        ((0.7,), "two positive parameters"),
        ((0.7, 0.0), r"got \(0.7, 0.0\)"),
        ((0.7, "b"), "Beta distribution"),
        ([0.7, 0.4], "'expression' parameter"),
    ],
)
def test_synthesizer_bad_expression(rows, expression, match):
    """Check that an expression that is no pair of positive Beta parameters
    is a clear error."""
    with pytest.raises(ValueError, match=match):
        ProcessParameterSynthesizer(expression=expression).fit(rows)


@pytest.mark.parametrize(
    "couplings, match",
    [
        ({("vibration", "speed"): 0.3}, "unknown sensors"),
        ({"vibration": 0.3}, "pairs of sensor names"),
        (
            {
                ("vibration", "drive_load"): 0.99,
                ("vibration", "curing_time"): 0.99,
                ("drive_load", "curing_time"): -0.99,
            },
            "positive definite",
        ),
    ],
)
def test_synthesizer_bad_couplings(rows, couplings, match):
    """Check that couplings naming unknown sensors or forming no correlation
    matrix are clear errors."""
    with pytest.raises(ValueError, match=match):
        ProcessParameterSynthesizer(couplings=couplings).fit(rows)
