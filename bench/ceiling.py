"""Settings for the benchmark's server: the project's settings plus one URL (bench/ceiling_urls.py),
`/bench/ping`, a minimal Django JSON endpoint behind the same middleware as every page and API call.
bench/requests.py measures it as the ceiling for submissions."""

from linjialin.settings import *  # noqa: F403

ROOT_URLCONF = "bench.ceiling_urls"
