"""The default storage: the file system under MEDIA_ROOT, with no URL of its own."""

from __future__ import annotations

from django.core.files.storage import FileSystemStorage


class PrivateFileSystemStorage(FileSystemStorage):
    """MEDIA_ROOT is never routed, by Django or by the web server, so a stored file has no URL:
    `FieldFile.url` raises instead of printing a link that would either be dead or, on a
    misconfigured server, public. Link to a file through the door instead
    (`{% file_url kind obj %}`, `povertyapp.files.download_url`)."""

    def url(self, name: str | None) -> str:
        raise ValueError(
            "Stored files have no URL: link to them with povertyapp.files.download_url "
            "or the {% file_url %} template tag."
        )
