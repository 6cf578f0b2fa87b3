"""Settings for `make bench-scale` only: the app's own, plus the yardstick's URL (bench/urls.py).

Never used by the app itself; bench/scale.py points gunicorn at it with DJANGO_SETTINGS_MODULE.
"""

from messenger.settings import *  # noqa: F403

ROOT_URLCONF = "bench.urls"
