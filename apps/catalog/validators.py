"""Checks on uploaded product images: only types the shop serves, of a sane size.

Uploads are served from /media/ on the shop's own origin, so a file's content must match
what its name says, and SVG (XML that browsers will run scripts from when the file is
opened directly) is parsed (defusedxml: no DTD, no entities) and accepted only when every
element and attribute is on an allowlist of plain drawing features, matched by namespace
and local name (a prefix such as `<x:script>` cannot hide an element). Django serves
/media/ with `Content-Security-Policy: default-src 'none'; style-src 'unsafe-inline';
sandbox` and `X-Content-Type-Options: nosniff` (config/urls.py); deployments serving it
from a web server or CDN should send the same headers, which neutralise anything that
slips through.
"""

import re
from pathlib import PurePath
from xml.etree.ElementTree import Element, ParseError, TreeBuilder

from defusedxml import DefusedXmlException
from defusedxml.ElementTree import DefusedXMLParser
from django.core.exceptions import ValidationError
from django.core.files import File

IMAGE_EXTENSIONS = ["svg", "png", "jpg", "jpeg", "webp"]
MAX_IMAGE_BYTES = 5 * 1024 * 1024

_SIGNATURES: dict[str, tuple[bytes, ...]] = {
    "png": (b"\x89PNG\r\n\x1a\n",),
    "jpg": (b"\xff\xd8\xff",),
    "jpeg": (b"\xff\xd8\xff",),
}

SVG_NS = "http://www.w3.org/2000/svg"

# Drawing only: no script, style, foreignObject, image, a, animate/set (which can rewrite
# an href), iframe, filter or feImage. Matched by local name in the SVG namespace (or no
# namespace, where browsers treat elements as inert XML).
SVG_ELEMENTS = frozenset(
    {
        "svg",
        "g",
        "rect",
        "circle",
        "ellipse",
        "line",
        "polyline",
        "polygon",
        "path",
        "text",
        "tspan",
        "title",
        "desc",
        "defs",
        "linearGradient",
        "radialGradient",
        "stop",
        "clipPath",
        "use",
    }
)
# Only local references (`url(#id)`) in any attribute, styles included.
_NON_LOCAL_URL = re.compile(r"url\s*\(\s*+['\"]?+\s*+(?!#)", re.IGNORECASE)
# Functions an image needs (transforms, colours) and url(), itself limited to `#id` above;
# any other (image-set(), src(), element(), ...) could load another file.
_FUNCTION = re.compile(r"([A-Za-z_][\w-]*)\s*\(")
_SAFE_FUNCTIONS = frozenset(
    {"url", "translate", "rotate", "scale", "matrix", "skewx", "skewy"}
    | {"rgb", "rgba", "hsl", "hsla"}
)
_UNSAFE_VALUE = re.compile(r"javascript:|vbscript:|expression\s*\(|@import", re.IGNORECASE)

UNSAFE_SVG_MESSAGE = (
    "SVG images may not contain scripts, event handlers, embedded documents or links to "
    "other files (found %(what)s)."
)


class UnsafeSvg(Exception):
    """The SVG has a feature outside the allowlist; the message names it."""


def _local(name: str) -> tuple[str, str]:
    """(namespace, local name) of an ElementTree `{ns}local` name."""
    if name.startswith("{"):
        namespace, _, local = name[1:].partition("}")
        return namespace, local
    return "", name


def _check_attribute(element: str, name: str, value: str) -> None:
    _, local = _local(name)
    if local.lower().startswith("on"):
        raise UnsafeSvg(f"the event handler {local} on <{element}>")
    if local.lower() == "href" and not value.strip().startswith("#"):
        raise UnsafeSvg(f"a link to {value.strip()[:60]!r} on <{element}>")
    # Presentation attributes are CSS too: an escape (`\75rl(` is `url(`) could hide a
    # function from the checks below, so none anywhere.
    if "\\" in value:
        raise UnsafeSvg(f"a CSS escape in {local} of <{element}>")
    for function in _FUNCTION.findall(value):
        if function.lower() not in _SAFE_FUNCTIONS:
            raise UnsafeSvg(f"the function {function}() in {local} of <{element}>")
    if _NON_LOCAL_URL.search(value):
        raise UnsafeSvg(f"a url() reference to another file in {local} of <{element}>")
    if _UNSAFE_VALUE.search(value):
        raise UnsafeSvg(f"script in {local} of <{element}>")


class _TreeBuilder(TreeBuilder):
    """Notes processing instructions anywhere, also before the root element (outside the
    tree): `<?xml-stylesheet?>` makes a browser load and run an XSLT sheet."""

    def __init__(self) -> None:
        super().__init__()
        self.pis: list[str] = []

    def pi(self, target: str, text: str | None = None) -> Element:
        self.pis.append(target)
        return super().pi(target, text)


def _check_element(node: Element) -> None:
    namespace, local = _local(str(node.tag))
    if namespace not in ("", SVG_NS):
        raise UnsafeSvg(f"the element {local} from the namespace {namespace}")
    if local not in SVG_ELEMENTS:
        raise UnsafeSvg(f"the element <{local}>")
    for name, value in node.attrib.items():
        _check_attribute(local, name, value)


def check_svg(content: bytes) -> None:
    """Raise ValidationError unless `content` is an SVG made only of allowed features."""
    parser = DefusedXMLParser(
        target=(builder := _TreeBuilder()),
        forbid_dtd=True,
        forbid_entities=True,
        forbid_external=True,
    )
    try:
        parser.feed(content)
        root = parser.close()
    except DefusedXmlException as exc:
        raise ValidationError(
            UNSAFE_SVG_MESSAGE, params={"what": "a DOCTYPE or entity declaration"}
        ) from exc
    except (ParseError, ValueError) as exc:
        raise ValidationError("This file is not an SVG image (it is not valid XML).") from exc
    if not isinstance(root, Element) or _local(str(root.tag)) not in ((SVG_NS, "svg"), ("", "svg")):
        raise ValidationError("This file is not an SVG image.")
    try:
        if builder.pis:
            raise UnsafeSvg(f"the processing instruction <?{builder.pis[0][:40]}?>")
        for node in root.iter():
            _check_element(node)
    except UnsafeSvg as exc:
        raise ValidationError(UNSAFE_SVG_MESSAGE, params={"what": str(exc)}) from exc


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
        check_svg(_head(upload, MAX_IMAGE_BYTES + 1))
