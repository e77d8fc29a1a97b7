"""Static files in production: hashed names, compressed copies, served by whitenoise.

`manage.py collectstatic` with Django's manifest storage rewrites every reference a css or js
file makes (`url(...)`, `@import`, `sourceMappingURL`) to the referenced file's hashed name, and
fails when the referenced file is missing. Vendored libraries are kept unmodified
(`static/vendor/README.md`) and some end with a `sourceMappingURL` comment naming a map that is
not shipped (swagger-ui.css → swagger-ui.css.map): that failed collectstatic, and without a
manifest every page answered 500.

A source map is a debugging aid, never loaded by a page: a reference to a missing one is dropped
from the collected copy (so browsers' developer tools do not ask for it either). Every other
reference must still resolve, so a missing image or font of our own css still fails the build.
"""

from __future__ import annotations

import posixpath
import re
from collections.abc import Callable

from whitenoise.storage import CompressedManifestStaticFilesStorage

SOURCE_MAP_REFERENCE = re.compile(r"sourceMappingURL")


class ProductionStaticFilesStorage(CompressedManifestStaticFilesStorage):
    """Whitenoise's compressed manifest storage that tolerates missing source maps only."""

    def url_converter(
        self, name: str, hashed_files: dict[str, str], template: str | None = None
    ) -> Callable[[re.Match[str]], str]:
        convert = super().url_converter(name, hashed_files, template)

        def converter(matchobj: re.Match[str]) -> str:
            if SOURCE_MAP_REFERENCE.search(matchobj["matched"]):
                target = matchobj["url"].strip()
                if not self._referenced_file_exists(name, target):
                    return ""
            return convert(matchobj)

        return converter

    def _referenced_file_exists(self, name: str, target: str) -> bool:
        if target.startswith(("data:", "http:", "https:", "//")):
            return True  # not a file of ours: the default converter leaves it alone
        path = posixpath.normpath(posixpath.join(posixpath.dirname(name), target.split("?")[0]))
        return bool(self.exists(path))
