"""django-sendfile2 backend for development, tests and servers without nginx: Django streams the
file in blocks (`FileResponse`, which gunicorn hands to `wsgi.file_wrapper`).

django-sendfile2's own `simple` backend builds an `HttpResponse` from the file's chunks, which
joins them into one bytes object: a 300 MB ledger would be held in memory by the worker.
"""

from __future__ import annotations

from pathlib import Path
from typing import Any

from django.http import FileResponse, HttpRequest


def sendfile(request: HttpRequest, filepath: Path, **kwargs: Any) -> FileResponse:
    # The caller (django_sendfile.sendfile) sets Content-Type, -Length and -Disposition.
    return FileResponse(filepath.open("rb"))
