"""Shop fixtures (defined in stripe_fixtures so tests/gateways can import them too)."""
from tests.shop.stripe_fixtures import (card, ctx, localstripe_url, no_stripe, post_event,  # noqa: F401
                                        shopper, stripe_api, stripe_app, stripe_down)
