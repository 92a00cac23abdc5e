"""/media/ (served by Django when SERVE_MEDIA) never lets an uploaded file act as a page.

Uploads share the shop's origin; an SVG that slipped past the upload checks must not run
script there or load anything when opened directly.
"""

import pytest
from django.core.files.base import ContentFile
from django.test import Client

from apps.catalog.models import ProductImage
from tests.factories import make_product

pytestmark = pytest.mark.django_db

CSP = "default-src 'none'; style-src 'unsafe-inline'; sandbox"


@pytest.mark.parametrize(
    ("name", "content", "content_type"),
    [
        ("pic.svg", b'<svg xmlns="http://www.w3.org/2000/svg"><rect width="1"/></svg>', "svg"),
        ("pic.png", b"\x89PNG\r\n\x1a\n" + b"\x00" * 8, "image/png"),
    ],
)
def test_media_files_are_served_sandboxed_and_unsniffed(
    client: Client, name: str, content: bytes, content_type: str
) -> None:
    product = make_product("Pictured")
    image = ProductImage(product=product, alt_text="x", position=3)
    image.image.save(name, ContentFile(content), save=True)  # storage only: no validators
    response = client.get(image.image.url)
    assert response.status_code == 200
    assert b"".join(response.streaming_content) == content  # type: ignore[attr-defined]
    assert content_type in response["Content-Type"]
    assert response["Content-Security-Policy"] == CSP
    assert response["X-Content-Type-Options"] == "nosniff"


def test_missing_media_is_a_404(client: Client) -> None:
    assert client.get("/media/products/nothing-here.svg").status_code == 404
