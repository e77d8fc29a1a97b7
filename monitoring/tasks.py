"""Celery entry points of monitoring (Celery autodiscovers `<app>.tasks`). The dashboard's
refresh task lives beside the figures it computes (`monitoring.figures.refresh_figures_task`),
which send it; importing it here registers it with the worker."""

from monitoring.figures import refresh_figures_task

__all__ = ["refresh_figures_task"]
