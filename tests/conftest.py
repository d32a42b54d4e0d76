"""Hypothesis profiles for the property test (tests/test_properties.py): "ci", the default, a fixed
number of derandomized examples; "long", chosen with `--hypothesis-profile=long`, many more."""

from __future__ import annotations

from hypothesis import HealthCheck, Phase, settings

# Each example is a whole database run through every phase by the `consolidate` command: slow by
# design, large by design (100 KB strings, JSON 1,000 deep), and never timed per example.
_SLOW_AND_LARGE = [HealthCheck.too_slow, HealthCheck.data_too_large, HealthCheck.large_base_example]

settings.register_profile(
    "ci",
    max_examples=4,
    derandomize=True,
    deadline=None,
    database=None,
    # Shrinking would re-run the pipeline for minutes; a failure prints its dataset instead.
    phases=[Phase.explicit, Phase.reuse, Phase.generate],
    suppress_health_check=_SLOW_AND_LARGE,
)
settings.register_profile(
    "long",
    max_examples=40,
    deadline=None,
    database=None,
    suppress_health_check=_SLOW_AND_LARGE,
)
# The default; hypothesis's own plugin loads the one --hypothesis-profile names after this.
settings.load_profile("ci")
