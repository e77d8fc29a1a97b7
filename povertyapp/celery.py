"""The Celery application. Tasks live in each app's `tasks.py`."""

import logging
import os
from typing import Any

from celery import Celery
from celery.signals import after_setup_logger, after_setup_task_logger

from povertyapp.privacy import MaskSensitiveFilter

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "povertyapp.settings")

app = Celery("povertyapp")
app.config_from_object("django.conf:settings", namespace="CELERY")
app.autodiscover_tasks()


@after_setup_logger.connect
@after_setup_task_logger.connect
def mask_worker_log(logger: logging.Logger, **kwargs: Any) -> None:
    """The worker replaces the root logger's handlers with its own (and sets up the task
    logger's): each gets the filter that masks ID and account numbers, as every Django handler
    has (settings.LOGGING)."""
    for handler in logger.handlers:
        if not any(isinstance(f, MaskSensitiveFilter) for f in handler.filters):
            handler.addFilter(MaskSensitiveFilter())
