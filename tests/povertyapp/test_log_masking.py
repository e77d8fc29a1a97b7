"""No log line holds a full ID number or bank account (issue 14, 安全审计): every handler masks,
Django's (runserver's `django.server`, `django.request`), gunicorn's access log, Celery's
worker log; nginx's access log writes no query string."""

from __future__ import annotations

import datetime
import io
import logging
import re
import runpy
from pathlib import Path
from types import SimpleNamespace

from celery.signals import after_setup_logger, after_setup_task_logger
from gunicorn.config import Config

from povertyapp.gunicorn_logging import MaskingLogger
from povertyapp.privacy import MaskSensitiveFilter
from tests.conftest import login

ROOT = Path(__file__).resolve().parents[2]
ID_NUMBER = "52262219800101001X"
MASKED = "522***********001X"
ACCOUNT = "6222021234567890123"


def _masks(handler: logging.Handler) -> bool:
    return any(isinstance(f, MaskSensitiveFilter) for f in handler.filters)


def _configured_handlers() -> list[tuple[str, logging.Handler]]:
    """The handlers of the logging configuration (not pytest's own, which capture for tests)."""
    loggers = [("root", logging.getLogger())] + [
        (name, logger)
        for name, logger in logging.root.manager.loggerDict.items()
        if isinstance(logger, logging.Logger)
    ]
    return [
        (name, handler)
        for name, logger in loggers
        for handler in logger.handlers
        if not isinstance(handler, logging.NullHandler)
        and not type(handler).__module__.startswith("_pytest")
    ]


def test_every_configured_handler_masks():
    handlers = _configured_handlers()
    assert {"root", "django.server"} <= {name for name, _ in handlers}
    assert [name for name, handler in handlers if not _masks(handler)] == []


def _captured(logger_name: str) -> tuple[list[logging.StreamHandler], io.StringIO]:
    buffer = io.StringIO()
    logger = logging.getLogger(logger_name)
    while not logger.handlers and logger.propagate and logger.parent is not None:
        logger = logger.parent
    handlers = [h for h in logger.handlers if isinstance(h, logging.StreamHandler)]
    assert handlers, logger_name
    return handlers, buffer


def _written(logger_name: str, emit) -> str:
    handlers, buffer = _captured(logger_name)
    streams = [handler.setStream(buffer) for handler in handlers]
    try:
        emit()
    finally:
        for handler, stream in zip(handlers, streams, strict=True):
            handler.setStream(stream)
    return buffer.getvalue()


def test_runserver_request_lines_are_masked():
    """`django.server` logs the request line with its query string (runserver)."""
    text = _written(
        "django.server",
        lambda: logging.getLogger("django.server").info(
            '"%s" %s %s',
            f"GET /households/?q={ID_NUMBER}&account=%20{ACCOUNT} HTTP/1.1",
            "302",
            "0",
        ),
    )
    assert MASKED in text
    assert ID_NUMBER not in text and ACCOUNT not in text


def test_django_request_log_of_a_path_is_masked(cast):
    """`django.request` logs the path of every 4xx: an ID number pasted into a path is masked."""
    client = login(cast.cadre)
    text = _written("django.request", lambda: client.get(f"/households/{ID_NUMBER}/edit/x/"))
    assert "Not Found" in text
    assert MASKED in text and ID_NUMBER not in text


def _gunicorn_logger() -> MaskingLogger:
    config = Config()
    config.set("accesslog", "-")
    return MaskingLogger(config)


def _access_arguments():
    environ = {
        "REQUEST_METHOD": "GET",
        "RAW_URI": f"/households/?q={ID_NUMBER}",
        "PATH_INFO": f"/api/v1/members/{ID_NUMBER}/",
        "QUERY_STRING": f"q={ID_NUMBER}&bank=%20{ACCOUNT}",
        "SERVER_PROTOCOL": "HTTP/1.1",
        "REMOTE_ADDR": "10.0.0.8",
        "HTTP_REFERER": f"https://fupin.example.gov.cn/households/?q={ID_NUMBER}",
        "HTTP_USER_AGENT": "Mozilla/5.0",
    }
    request = SimpleNamespace(headers=[("REFERER", environ["HTTP_REFERER"])])
    response = SimpleNamespace(status="302 Found", sent=0, headers=[("Location", "/households/")])
    return response, request, environ, datetime.timedelta(milliseconds=12)


def test_gunicorn_access_log_format_masks_request_line_query_and_referer():
    logger = _gunicorn_logger()
    atoms = logger.atoms(*_access_arguments())
    line = logger.cfg.access_log_format % atoms
    assert MASKED in line and ID_NUMBER not in line
    for atom in ("r", "q", "U", "f", "{referer}i"):
        assert ID_NUMBER not in atoms[atom] and ACCOUNT not in atoms[atom], atom
    assert "10.0.0.8" in line and "302" in line


def test_gunicorn_access_log_written_is_masked():
    logger = _gunicorn_logger()
    buffer = io.StringIO()
    for handler in logger.access_log.handlers:
        handler.setStream(buffer)
        assert _masks(handler)
    logger.access(*_access_arguments())
    assert MASKED in buffer.getvalue()
    assert ID_NUMBER not in buffer.getvalue()


def test_gunicorn_conf_uses_the_masking_logger():
    conf = runpy.run_path(str(ROOT / "gunicorn.conf.py"))
    assert conf["logger_class"] == "povertyapp.gunicorn_logging.MaskingLogger"
    assert conf["accesslog"] == "-"


def test_celery_worker_and_task_log_handlers_mask():
    for signal in (after_setup_logger, after_setup_task_logger):
        logger = logging.Logger(f"worker-{id(signal)}")
        buffer = io.StringIO()
        logger.addHandler(logging.StreamHandler(buffer))
        signal.send(sender=None, logger=logger, loglevel=logging.INFO, logfile=None, format="")
        logger.warning("job for %s failed", ID_NUMBER)
        assert buffer.getvalue() == f"job for {MASKED} failed\n"


def test_nginx_access_log_has_no_query_string_and_no_referer():
    site = (ROOT / "deploy/nginx-site.conf").read_text(encoding="utf-8")
    directives = re.sub(r"#.*", "", site)
    log_format = re.search(r"log_format\s+fupin_no_query\s+(.*?);", directives, re.S)
    assert log_format is not None
    for variable in ("$request ", '$request"', "$request_uri", "$args", "$query_string"):
        assert variable not in log_format.group(1), variable
    assert "$http_referer" not in log_format.group(1)
    assert "$uri" in log_format.group(1)
    access_logs = re.findall(r"access_log\s+([^;]+);", directives)
    assert len(access_logs) == 2  # both servers
    assert all(entry.split()[-1] == "fupin_no_query" for entry in access_logs)
