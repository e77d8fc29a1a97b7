"""Celery entry points of the registry. The data-quality check runs as a job
(`povertyapp.jobs`, kind `data_quality`): importing the module registers it, here for the
worker (Celery autodiscovers `<app>.tasks`) and in `households.views` for the web process."""

from households import quality  # noqa: F401  (registers the data_quality job kind)
