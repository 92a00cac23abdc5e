"""SVG uploads: parsed and checked against an allowlist, never pattern-matched.

The regex check this replaced let `<x:script>` through when `x` was bound to the SVG
namespace; every case here is something a browser would run or fetch when the file is
opened from /media/.
"""

import pytest
from django.core.exceptions import ValidationError

from apps.catalog import demo
from apps.catalog.demo import placeholder_svg
from apps.catalog.validators import check_svg

SVG = 'xmlns="http://www.w3.org/2000/svg"'
XLINK = 'xmlns:xlink="http://www.w3.org/1999/xlink"'


def svg(body: str, attrs: str = "") -> bytes:
    return f"<svg {SVG} {attrs}>{body}</svg>".encode()


@pytest.mark.parametrize(
    "content",
    [
        # A prefix bound to the SVG namespace hides <script> from a regex, not from a parser.
        (
            b'<svg xmlns="http://www.w3.org/2000/svg" xmlns:x="http://www.w3.org/2000/svg">'
            b"<x:script>alert(1)</x:script></svg>"
        ),
        svg('<h:script xmlns:h="http://www.w3.org/1999/xhtml">alert(1)</h:script>'),
        svg('<html:iframe xmlns:html="http://www.w3.org/1999/xhtml" src="/"/>'),
        svg("<script>alert(1)</script>"),
        svg("<script><![CDATA[alert(1)]]></script>"),
        svg("<foreignObject><div>hi</div></foreignObject>"),
        svg('<style>@import "https://evil.example/x.css";</style>'),
        svg('<a href="javascript:alert(1)"><rect width="1"/></a>'),
        svg('<image href="https://evil.example/x.png"/>'),
        svg('<set attributeName="href" to="javascript:alert(1)"/>'),
        svg('<animate attributeName="href" values="javascript:alert(1)"/>'),
        svg('<rect width="1" onclick="alert(1)"/>'),
        svg('<rect width="1" ONMOUSEOVER="alert(1)"/>'),
        svg("", 'onload="alert(1)"'),
        svg('<use href="https://evil.example/sprite.svg#a"/>'),
        svg('<use xlink:href="data:image/svg+xml;base64,PHN2Zz4="/>', XLINK),
        svg('<use xlink:href=" javascript:alert(1)"/>', XLINK),
        svg('<rect width="1" style="fill: url(https://evil.example/track)"/>'),
        svg('<rect width="1" fill="url(\'//evil.example/x\')"/>'),
        svg('<rect width="1" style="background: u\\72l(https://evil.example/)"/>'),
        svg('<rect width="1" style="width: expression(alert(1))"/>'),
        # Presentation attributes are CSS: escapes and loading functions outside style=.
        svg('<rect width="1" fill="\\75rl(http://evil.example/x#a)"/>'),
        svg("", "style=\"background-image: image-set('http://evil.example/x' 1x)\""),
        svg('<rect width="1" fill="src(http://evil.example/x)"/>'),
        svg('<rect width="1" mask="element(#a)"/>'),
        b'<?xml-stylesheet type="text/xsl" href="https://evil.example/x.xsl"?>' + svg(""),
        b'<!DOCTYPE svg [<!ENTITY a "aaaa">]><svg><text>&a;</text></svg>',
        b'<!DOCTYPE svg SYSTEM "https://evil.example/x.dtd"><svg/>',
        b'<!DOCTYPE svg [<!ENTITY x SYSTEM "file:///etc/passwd">]><svg>&x;</svg>',
    ],
)
def test_unsafe_svg_is_refused(content: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        check_svg(content)
    assert "may not contain" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [b"just text", b"<svg", b"<html><body/></html>", b"\xff\xfe<svg/>", b""],
)
def test_non_svg_is_refused(content: bytes) -> None:
    with pytest.raises(ValidationError) as info:
        check_svg(content)
    assert "not an SVG image" in str(info.value)


@pytest.mark.parametrize(
    "content",
    [
        placeholder_svg("Ridge Rain Shell, waterproof", "Northwind"),
        placeholder_svg("A & B <sale>"),
        b'<?xml version="1.0" encoding="UTF-8"?>\n<!-- drawn by hand -->\n'
        + svg('<rect width="8" height="8"/>', 'width="8" height="8"'),
        svg(
            '<defs><linearGradient id="g"><stop offset="0" stop-color="#fff"/></linearGradient>'
            '<clipPath id="c"><circle r="4"/></clipPath></defs>'
            '<g clip-path="url(#c)" transform="translate(1 2) rotate(45) scale(2)">'
            '<rect id="r" width="8" fill="url(#g)" stroke="rgb(1, 2, 3)"'
            " style=\"fill: url( '#g' ); opacity: .5\"/></g>"
            '<use href="#r"/><use xlink:href="#r"/>'
            "<title>t</title><desc>d</desc><ellipse/><line/><polyline/><polygon/>"
            '<path d="M0 0"/><text>a<tspan>b</tspan></text>',
            XLINK,
        ),
        b"<svg><rect width='1'/></svg>",  # no namespace: inert XML, still drawing only
    ],
)
def test_plain_drawings_pass(content: bytes) -> None:
    check_svg(content)


def test_every_demo_placeholder_passes() -> None:
    """seed_demo draws these; staff re-uploading one must not be refused."""
    for spec in demo._products():
        check_svg(placeholder_svg(spec.name, spec.brand))
