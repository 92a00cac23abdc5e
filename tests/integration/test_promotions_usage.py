"""Coupon usage on real PostgreSQL: reservations never exceed limits, even concurrently."""

import threading
from datetime import timedelta

import pytest
from django.db import connection
from django.test import Client
from django.utils import timezone

from apps.promotions import services
from apps.promotions.demo import seed_demo_coupons
from apps.promotions.models import Coupon, CouponRedemption
from tests.factories import make_coupon, make_user


@pytest.mark.django_db
def test_reserve_confirm_release_are_idempotent() -> None:
    coupon = make_coupon("IDEM", usage_limit=5)
    user = make_user()
    first = services.reserve_usage([coupon.pk], user=user, reference="pay-1")
    again = services.reserve_usage([coupon.pk], user=user, reference="pay-1")
    assert [r.pk for r in first] == [r.pk for r in again]
    coupon.refresh_from_db()
    assert coupon.usage_count == 1
    assert services.release_usage("pay-1") == 1
    assert services.release_usage("pay-1") == 0
    coupon.refresh_from_db()
    assert coupon.usage_count == 0
    services.reserve_usage([coupon.pk], user=user, reference="pay-1")  # retried checkout
    assert services.confirm_usage("pay-1") == 1
    assert services.confirm_usage("pay-1") == 0
    assert services.release_usage("pay-1") == 0  # redeemed uses are never released
    coupon.refresh_from_db()
    assert coupon.usage_count == 1
    assert CouponRedemption.objects.get().status == CouponRedemption.Status.REDEEMED


@pytest.mark.django_db
def test_limits_are_enforced_and_nothing_is_reserved_on_failure() -> None:
    limited = make_coupon("LIM", usage_limit=1)
    free = make_coupon("FREE", type="free_shipping", combinable=True)
    services.reserve_usage([limited.pk], user=None, email="a@example.com", reference="r1")
    with pytest.raises(services.CouponUsageError) as caught:
        services.reserve_usage(
            [free.pk, limited.pk], user=None, email="b@example.com", reference="r2"
        )
    assert caught.value.reason == "usage_limit_reached"
    assert not CouponRedemption.objects.filter(reference="r2").exists()
    free.refresh_from_db()
    assert free.usage_count == 0
    per = make_coupon("PER", per_customer_limit=1)
    services.reserve_usage([per.pk], user=None, email="c@example.com", reference="r3")
    with pytest.raises(services.CouponUsageError, match="per_customer"):
        services.reserve_usage([per.pk], user=None, email="C@EXAMPLE.COM", reference="r4")


@pytest.mark.django_db
def test_stale_reservations_are_released() -> None:
    coupon = make_coupon("STALE", usage_limit=1)
    services.reserve_usage([coupon.pk], user=None, email="x@example.com", reference="old")
    CouponRedemption.objects.update(updated_at=timezone.now() - timedelta(hours=3))
    assert services.release_stale_reservations(timezone.now() - timedelta(hours=1)) == 1
    coupon.refresh_from_db()
    assert coupon.usage_count == 0


def _race(target: object, n: int) -> list[str]:
    outcomes: list[str] = []
    barrier = threading.Barrier(n)
    lock = threading.Lock()

    def worker(i: int) -> None:
        barrier.wait()
        try:
            target(i)  # type: ignore[operator]
            result = "ok"
        except services.CouponUsageError as exc:
            result = exc.reason
        except Exception as exc:  # any other outcome is recorded, so the test fails on it
            result = f"unexpected {exc!r}"
        finally:
            connection.close()
        with lock:
            outcomes.append(result)

    threads = [threading.Thread(target=worker, args=(i,)) for i in range(n)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=30)
    assert len(outcomes) == n, outcomes  # every worker reported
    return outcomes


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_exceed_usage_limit() -> None:
    coupon = make_coupon("RACE", usage_limit=3)
    outcomes = _race(
        lambda i: services.reserve_usage(
            [coupon.pk], user=None, email=f"u{i}@example.com", reference=f"pay-{i}"
        ),
        12,
    )
    assert sorted(outcomes) == ["ok"] * 3 + ["usage_limit_reached"] * 9, outcomes
    coupon.refresh_from_db()
    assert coupon.usage_count == 3
    assert CouponRedemption.objects.filter(coupon=coupon).count() == 3


@pytest.mark.django_db(transaction=True)
def test_concurrent_reservations_never_exceed_per_customer_limit() -> None:
    coupon = make_coupon("RACE1", per_customer_limit=2)
    user = make_user()
    outcomes = _race(
        lambda i: services.reserve_usage([coupon.pk], user=user, reference=f"tab-{i}"), 8
    )
    assert sorted(outcomes) == ["ok"] * 2 + ["per_customer_limit_reached"] * 6, outcomes
    assert CouponRedemption.objects.filter(coupon=coupon, user=user).count() == 2


@pytest.mark.django_db
def test_generate_single_use_codes_and_demo_seed_is_idempotent() -> None:
    template = make_coupon("TEMPLATE", type="fixed_amount", value="5.00")
    created = services.generate_single_use_codes(template, 25)
    assert len({c.code for c in created}) == 25
    assert all(c.usage_limit == 1 and c.code.startswith("TEMPLATE-") for c in created)
    seed_demo_coupons()
    seed_demo_coupons()
    codes = set(Coupon.objects.values_list("code", flat=True))
    assert {"WELCOME10", "SAVE5", "FREESHIP", "BUNDLE", "EXPIRED10"} <= codes


@pytest.mark.django_db
def test_admin_coupon_list_filters_and_actions(admin_client: Client) -> None:
    make_coupon("LISTME", usage_limit=10)
    expired = make_coupon(
        "OLDONE",
        starts_at=timezone.now() - timedelta(days=5),
        ends_at=timezone.now() - timedelta(days=1),
    )
    url = "/admin/promotions/coupon/"
    page = admin_client.get(url, {"q": "listme"})
    assert page.status_code == 200
    assert b"LISTME" in page.content
    assert b"0 / 10" in page.content
    assert b"OLDONE" in admin_client.get(url, {"expired": "yes"}).content
    assert (
        admin_client.get(url, {"is_active__exact": "1", "type__exact": "percentage"}).status_code
        == 200
    )
    admin_client.post(url, {"action": "deactivate", "_selected_action": [expired.pk]})
    expired.refresh_from_db()
    assert not expired.is_active
    form = admin_client.post(url, {"action": "generate_codes", "_selected_action": [expired.pk]})
    assert b"Generate codes" in form.content
    admin_client.post(
        url,
        {
            "action": "generate_codes",
            "_selected_action": [expired.pk],
            "apply": "1",
            "count": "3",
            "code_prefix": "VIP",
        },
    )
    assert Coupon.objects.filter(code__startswith="VIP-").count() == 3


def _stale_release(reference: str) -> None:
    """The reservation outlives the TTL and the safety net releases it."""
    CouponRedemption.objects.filter(reference=reference).update(
        updated_at=timezone.now() - services.reservation_ttl() - timedelta(minutes=1)
    )
    assert services.release_stale_reservations(timezone.now() - services.reservation_ttl()) >= 1


@pytest.mark.django_db
def test_confirm_after_stale_release_re_reserves_when_the_limit_allows() -> None:
    coupon = make_coupon("LATEPAY", usage_limit=1)
    services.reserve_usage([coupon.pk], user=None, email="late@example.com", reference="late")
    _stale_release("late")
    coupon.refresh_from_db()
    assert coupon.usage_count == 0
    assert services.confirm_usage("late") == 1  # the paid use is counted, not silently lost
    coupon.refresh_from_db()
    assert coupon.usage_count == 1
    assert CouponRedemption.objects.get(reference="late").status == "redeemed"
    assert services.confirm_usage("late") == 0  # still idempotent


@pytest.mark.django_db
def test_confirm_after_stale_release_raises_when_the_limit_is_gone() -> None:
    coupon = make_coupon("GONE", usage_limit=1)
    services.reserve_usage([coupon.pk], user=None, email="a@example.com", reference="slow")
    _stale_release("slow")
    services.reserve_usage([coupon.pk], user=None, email="b@example.com", reference="fast")
    with pytest.raises(services.CouponReservationLost) as caught:
        services.confirm_usage("slow")
    assert caught.value.reason == "usage_limit_reached"
    assert caught.value.reference == "slow"
    assert caught.value.coupon_id == coupon.pk
    coupon.refresh_from_db()
    assert coupon.usage_count == 1  # never past the limit
    assert CouponRedemption.objects.get(reference="slow").status == "released"


@pytest.mark.django_db
def test_confirm_after_stale_release_respects_per_customer_limit() -> None:
    coupon = make_coupon("ONCEEACH", per_customer_limit=1)
    user = make_user()
    services.reserve_usage([coupon.pk], user=user, reference="tab-a")
    _stale_release("tab-a")
    services.reserve_usage([coupon.pk], user=user, reference="tab-b")
    services.confirm_usage("tab-b")
    with pytest.raises(services.CouponReservationLost, match="per_customer"):
        services.confirm_usage("tab-a")
    assert CouponRedemption.objects.filter(user=user, status="redeemed").count() == 1


@pytest.mark.django_db
def test_confirm_can_skip_a_lost_use_and_confirm_the_rest() -> None:
    limited = make_coupon("LOSTONE", usage_limit=1, combinable=True)
    free = make_coupon("SHIPFREE", type="free_shipping", combinable=True)
    services.reserve_usage([limited.pk, free.pk], user=None, email="x@example.com", reference="p")
    _stale_release("p")
    services.reserve_usage([limited.pk], user=None, email="y@example.com", reference="q")
    with pytest.raises(services.CouponReservationLost):
        services.confirm_usage("p")
    assert not CouponRedemption.objects.filter(reference="p", status="redeemed").exists()
    assert services.confirm_usage("p", skip_unavailable=True) == 1
    assert CouponRedemption.objects.get(reference="p", coupon=free).status == "redeemed"
    limited.refresh_from_db()
    free.refresh_from_db()
    assert (limited.usage_count, free.usage_count) == (1, 1)


def _assert_counts_consistent(coupon: Coupon) -> None:
    coupon.refresh_from_db()
    active = CouponRedemption.objects.filter(
        coupon=coupon, status__in=["reserved", "redeemed"]
    ).count()
    assert coupon.usage_count == active
    assert coupon.usage_limit is None or active <= coupon.usage_limit


@pytest.mark.django_db(transaction=True)
def test_concurrent_late_confirms_and_new_reservations_share_the_limit() -> None:
    """Three payments outlive their reservations while nine new checkouts race them."""
    coupon = make_coupon("INTERLEAVE", usage_limit=3)
    for i in range(3):
        services.reserve_usage([coupon.pk], user=None, email=f"l{i}@example.com", reference=f"l{i}")
    services.release_stale_reservations(timezone.now() + timedelta(minutes=1))
    _assert_counts_consistent(coupon)

    def step(i: int) -> None:
        if i < 3:
            assert services.confirm_usage(f"l{i}") == 1
        else:
            services.reserve_usage(
                [coupon.pk], user=None, email=f"n{i}@example.com", reference=f"n{i}"
            )

    outcomes = _race(step, 12)
    assert sorted(outcomes) == ["ok"] * 3 + ["usage_limit_reached"] * 9, outcomes
    _assert_counts_consistent(coupon)
    assert CouponRedemption.objects.filter(coupon=coupon, status="redeemed").count() == (
        CouponRedemption.objects.filter(
            coupon=coupon, reference__startswith="l", status="redeemed"
        ).count()
    )


@pytest.mark.django_db(transaction=True)
def test_concurrent_release_and_confirm_of_the_same_reference_stay_consistent() -> None:
    """Stale release, webhook confirm and a retried reserve hit the same payment at once:
    whatever the order, the count matches the rows and stays within the limit."""
    coupon = make_coupon("SAMEREF", usage_limit=2)
    for round_ in range(6):
        ref = f"pay-{round_}"
        services.reserve_usage(
            [coupon.pk], user=None, email=f"r{round_}@example.com", reference=ref
        )

        def step(i: int, ref: str = ref, round_: int = round_) -> None:
            if i % 3 == 0:
                services.release_usage(ref)
            elif i % 3 == 1:
                services.confirm_usage(ref)
            else:
                services.reserve_usage(
                    [coupon.pk],
                    user=None,
                    email=f"o{round_}-{i}@example.com",
                    reference=f"o{ref}-{i}",
                )

        outcomes = _race(step, 6)
        assert set(outcomes) <= {"ok", "usage_limit_reached"}
        _assert_counts_consistent(coupon)
        services.confirm_usage(ref, skip_unavailable=True)
        _assert_counts_consistent(coupon)
        # free the slots for the next round
        CouponRedemption.objects.filter(coupon=coupon).exclude(status="released").update(
            status="released"
        )
        Coupon.objects.filter(pk=coupon.pk).update(usage_count=0)
