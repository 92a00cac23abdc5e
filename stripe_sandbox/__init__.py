"""An offline, stateful emulator of the Stripe Checkout API subset the shop uses.

Run it with ``python -m stripe_sandbox``; point the official ``stripe`` SDK at it through its
API base setting. Nothing in ``apps/`` may import this package.
"""

API_VERSION = "2026-10-28.endive"

__all__ = ["API_VERSION"]
