"""gunicorn's configuration for production: `gunicorn --config gunicorn.conf.py`.

gunicorn reads this file by itself when started from the project directory; the documented
command names it anyway. The command line overrides what is set here (`--bind`, `--workers`).
"""

import os

from gunicorn.http import wsgi

wsgi_app = "povertyapp.wsgi:application"
bind = os.environ.get("GUNICORN_BIND", "127.0.0.1:8000")
workers = int(os.environ.get("GUNICORN_WORKERS", "4"))
# Above the slowest page (a large export answers with a job, not inside the request).
timeout = 120
# The TLS proxy on the same host sets X-Forwarded-Proto; only it is trusted to.
forwarded_allow_ips = "127.0.0.1"
accesslog = "-"
# ID and account numbers in the request line, query string or Referer are masked (issue 14).
logger_class = "povertyapp.gunicorn_logging.MaskingLogger"


_default_headers = wsgi.Response.default_headers


def _default_headers_without_server(response: wsgi.Response) -> list[str]:
    """gunicorn always sends `Server: gunicorn` and has no setting for it: a response that names
    the server software tells an attacker which exploits to try, so it is left out."""
    return [
        header for header in _default_headers(response) if not header.lower().startswith("server:")
    ]


# Patched on the class, so every worker's responses (and any module that imported it) drop it.
wsgi.Response.default_headers = _default_headers_without_server

# No control socket: its default path is per user, so two gunicorns of one user (the web
# service and a CI run, say) would take each other's; nothing here uses it.
control_socket_disable = True
