"""The one download view of every stored file (see `povertyapp.files`)."""

from __future__ import annotations

import logging
import mimetypes
from pathlib import Path

from django.conf import settings
from django.contrib.auth.decorators import login_required
from django.http import Http404, HttpResponse
from django.http.response import HttpResponseBase
from django.shortcuts import render
from django.utils import formats, timezone
from django.utils.translation import gettext as _
from django.views.decorators.http import require_safe
from django_sendfile import sendfile

from povertyapp import files
from povertyapp.http import AuthenticatedHttpRequest
from povertyapp.models import AccessLog
from povertyapp.privacy import access_log_record

logger = logging.getLogger(__name__)


@require_safe
@login_required
def download(request: AuthenticatedHttpRequest, kind: str, object_id: int) -> HttpResponseBase:
    """Serve `kind`'s file of object `object_id` to the signed-in user, if the user may see the
    object (404 otherwise, unknown ids and kinds included) and the link is theirs and fresh."""
    return _serve(request, kind, object_id, inline=False)


@require_safe
@login_required
def inline(request: AuthenticatedHttpRequest, kind: str, object_id: int) -> HttpResponseBase:
    """An image kind's file shown in the page (a field photo's thumbnail): the same checks and
    AccessLog as `download`, `Content-Disposition: inline` and the image's content type. A kind
    that is not an image is never served inline (404)."""
    return _serve(request, kind, object_id, inline=True)


# What an inline image may be: the door serves only these types inline.
INLINE_TYPES = {".jpg": "image/jpeg", ".jpeg": "image/jpeg", ".png": "image/png"}


def _serve(
    request: AuthenticatedHttpRequest, kind: str, object_id: int, *, inline: bool
) -> HttpResponseBase:
    file_kind = files.kind_get(kind)
    if file_kind is None or object_id > files.MAX_OBJECT_ID:
        raise Http404(_("未找到该文件。"))
    if inline and not file_kind.image:
        raise Http404(_("未找到该文件。"))
    obj = file_kind.get_for_user(request.user, object_id)
    field_file = file_kind.file_of(obj)
    page_url = file_kind.page_url(obj) if file_kind.page_url else ""
    if not field_file.name:
        deleted_at = file_kind.deleted_at(obj) if file_kind.deleted_at else None
        if deleted_at is None:
            raise Http404(_("该记录没有文件。"))
        return _page(
            request,
            status=410,
            title=_("文件已过期删除"),
            message=_(
                "该文件已于%(when)s过期删除（生成的文件保留%(days)d天）。如仍需要，请重新生成。"
            )
            % {
                "when": formats.date_format(timezone.localtime(deleted_at), "DATETIME_FORMAT"),
                "days": settings.JOB_FILE_RETENTION_DAYS,
            },
            page_url=page_url,
        )
    try:
        files.link_check(user=request.user, kind=file_kind, obj=obj, token=request.GET.get("t", ""))
    except files.LinkExpired:
        return _page(
            request,
            status=410,
            title=_("下载链接已过期"),
            message=_("下载链接的有效期为%(hours)d小时。请回到原页面重新点击下载。")
            % {"hours": settings.FILE_LINK_MAX_AGE // 3600},
            page_url=page_url,
        )
    except files.LinkInvalid:
        return _page(
            request,
            status=403,
            title=_("下载链接无效"),
            message=_("该下载链接不是为当前账号生成的，或已被修改。请回到原页面重新点击下载。"),
            page_url=page_url,
        )
    path = Path(field_file.path)
    if not path.is_file():
        logger.error("Stored file missing: %s %s (%s)", kind, object_id, field_file.name)
        return _page(
            request,
            status=410,
            title=_("文件已不存在"),
            message=_("该文件已不在服务器上。请联系县扶贫办或系统管理员。"),
            page_url=page_url,
        )
    filename = file_kind.name_of(obj)
    digest = files.sha256_of(path)
    access_log_record(
        user=request.user,
        action=AccessLog.Action.DOWNLOAD,
        target=kind,
        object_id=obj.pk,
        sha256=digest,
        detail={
            "file": filename,
            "bytes": path.stat().st_size,
            **({"inline": True} if inline else {}),
        },
        request=request,
    )
    if inline:
        content_type = INLINE_TYPES.get(Path(field_file.name).suffix.lower(), "")
        if not content_type:
            raise Http404(_("未找到该文件。"))
    else:
        content_type = mimetypes.guess_type(filename)[0] or "application/octet-stream"
    # The stored name, relative to MEDIA_ROOT (= SENDFILE_ROOT): sendfile2 refuses anything
    # that would leave it, and maps it under FILE_SERVING_INTERNAL_URL for nginx.
    response = sendfile(
        request,
        field_file.name,
        attachment=True,
        attachment_filename=False,
        mimetype=content_type,
    )
    # The guessed encoding of a name such as "x.tar.gz" would tell the browser to unpack it.
    del response["Content-Encoding"]
    if response.has_header("X-Accel-Redirect"):
        # This response has no body; nginx sends the file with its own length.
        response["Content-Length"] = "0"
    if inline:
        return files.mark_inline_image(response, filename)
    return files.mark_download(response, filename)


def _page(
    request: AuthenticatedHttpRequest, *, status: int, title: str, message: str, page_url: str
) -> HttpResponse:
    response = render(
        request,
        "povertyapp/file_unavailable.html",
        {"title": title, "message": message, "page_url": page_url},
        status=status,
    )
    response["Cache-Control"] = "no-store"
    return response
