"""Checks on uploaded product images: only types the shop serves, of a sane size.

Uploads are served from /media/ on the shop's own origin, so a file's content must match
what its name says, and SVG (XML that browsers will run scripts from when the file is
opened directly) is accepted only without scripts, event handlers, embedded documents or
external references. Deployments should also serve /media/ with
`Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline'; sandbox` and
`X-Content-Type-Options: nosniff`, which neutralises any SVG that slips through.
"""

import re
from pathlib import PurePath

from django.core.exceptions import ValidationError
from django.core.files import File

IMAGE_EXTENSIONS = ["svg", "png", "jpg", "jpeg", "webp"]
MAX_IMAGE_BYTES = 5 * 1024 * 1024

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}

# Anything in an SVG that can run code, load another document or reach the network.
_UNSAFE_SVG = re.compile(
    rb"<\s*script|<\s*foreignObject|<\s*iframe|<\s*embed|<\s*object|<!DOCTYPE|<!ENTITY"
    rb"|\son[a-z]+\s*=|javascript:|data:text|(?:xlink:)?href\s*=\s*[\"'](?!#|data:image/)"
    rb"|url\(\s*[\"']?(?!#)",
    re.IGNORECASE,
)


def _head(upload: File[bytes], size: int) -> bytes:
    upload.seek(0)
    data = upload.read(size)
    upload.seek(0)
    return data if isinstance(data, bytes) else str(data).encode()


def validate_image_file(upload: File[bytes]) -> None:
    """Size cap, and content that matches the extension (FileExtensionValidator runs first).

    Only new uploads are checked: files already stored were checked when uploaded, and
    re-reading them on every save of the product page would fail if storage is elsewhere.
    """
    if getattr(upload, "_committed", False):
        return
    if upload.size is not None and upload.size > MAX_IMAGE_BYTES:
        raise ValidationError(
            "Images may be at most %(limit)d MB.", params={"limit": MAX_IMAGE_BYTES // 2**20}
        )
    extension = PurePath(upload.name or "").suffix.lower().lstrip(".")
    if extension in _SIGNATURES:
        head = _head(upload, 16)
        if not head.startswith(_SIGNATURES[extension]):
            raise ValidationError("This file is not a %(ext)s image.", params={"ext": extension})
    elif extension == "webp":
        head = _head(upload, 16)
        if not (head[:4] == b"RIFF" and head[8:12] == b"WEBP"):
            raise ValidationError("This file is not a webp image.")
    elif extension == "svg":
        content = _head(upload, MAX_IMAGE_BYTES + 1)
        if b"<svg" not in content[:4096].lower():
            raise ValidationError("This file is not an SVG image.")
        if _UNSAFE_SVG.search(content):
            raise ValidationError(
                "SVG images may not contain scripts, event handlers, embedded documents or "
                "links to other files."
            )
