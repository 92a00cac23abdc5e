"""What the cart API accepts, told in its OpenAPI schema where drf-spectacular cannot see
it (a postprocessing hook, listed in SPECTACULAR_SETTINGS):

- every input serializer built on StrictIn refuses unknown fields (400 naming each), so
  its component says `additionalProperties: false`;
- adding an item needs a variantId or a productId (AddItemIn.validate), so the body
  requires one of the two.
"""

from typing import Any

from apps.cart.serializers import AddItemIn, StrictIn


def _strict_serializers() -> list[type[StrictIn]]:
    found: list[type[StrictIn]] = []
    pending: list[type[StrictIn]] = [StrictIn]
    while pending:
        cls = pending.pop()
        found.append(cls)
        pending.extend(cls.__subclasses__())
    return found


def _component_name(cls: type) -> str:
    """drf-spectacular's name for a serializer's component (COMPONENT_SPLIT_REQUEST off)."""
    name = cls.__name__
    return name[: -len("Serializer")] if name.endswith("Serializer") else name


def describe_cart_input(
    result: dict[str, Any], generator: object, request: object, public: bool
) -> dict[str, Any]:
    schemas: dict[str, dict[str, Any]] = result.get("components", {}).get("schemas", {})
    for cls in _strict_serializers():
        component = schemas.get(_component_name(cls))
        if component is not None:
            component["additionalProperties"] = False
    add_item = schemas.get(_component_name(AddItemIn))
    if add_item is not None:
        add_item["anyOf"] = [{"required": ["variantId"]}, {"required": ["productId"]}]
    return result
