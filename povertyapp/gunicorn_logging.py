"""gunicorn's logger with ID and account numbers masked (gunicorn.conf.py `logger_class`).

gunicorn writes its access log itself, not through Django's logging: the request line (`%(r)s`),
the query string (`%(q)s`), the URL (`%(U)s`) and the Referer (`%(f)s`) would hold a full ID
number typed into an old bookmark or a client's GET. Every atom of the access line is masked
(povertyapp.privacy.mask_text) before it is formatted; the error log's handlers get the same
filter as Django's.
"""

from __future__ import annotations

from typing import Any

from gunicorn.glogging import Logger

from povertyapp.privacy import MaskSensitiveFilter, mask_text


class MaskingLogger(Logger):
    def atoms(self, resp: Any, req: Any, environ: dict[str, Any], request_time: Any) -> Any:
        atoms = super().atoms(resp, req, environ, request_time)
        for key, value in atoms.items():
            if isinstance(value, str):
                atoms[key] = mask_text(value)
        return atoms

    def setup(self, cfg: Any) -> None:
        super().setup(cfg)
        for log in (self.error_log, self.access_log):
            for handler in log.handlers:
                if not any(isinstance(f, MaskSensitiveFilter) for f in handler.filters):
                    handler.addFilter(MaskSensitiveFilter())
