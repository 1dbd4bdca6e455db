"""Settings for the benchmarks: the development settings (DEBUG off, set by bench.common)
plus a URLconf that adds the baseline view the search benchmark compares against."""

from portal.settings.development import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
