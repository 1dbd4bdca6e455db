"""One round from opening to signed lease through the services: apply, review, publish the
seed, draw, offers down the ranks, decline, accept, lease."""

import datetime as dt

import pytest
from django.utils import timezone

from apartments import lottery, services
from apartments.constants import HousingApplicationStatus as A
from apartments.constants import OfferStatus, RoundStatus, UnitState
from apartments.models import HousingApplication, HousingOffer, Lease, Unit
from tests.apartments.conftest import housing_apply, make_housing_graduate, make_project, make_round

pytestmark = pytest.mark.django_db


def test_a_round_runs_from_application_to_lease(clock, district_1, staff_1, django_capture_on_commit_callbacks):
    project = make_project(district_1, types=(("单间", "45", "900", 2),))
    round = make_round(project)
    graduates = [make_housing_graduate(district=district_1) for _ in range(4)]
    apps = [housing_apply(g, round) for g in graduates]
    for app in apps:
        services.housing_application_approve(application=app, actor=staff_1)
    clock.set(clock.today + dt.timedelta(days=8))
    services.round_publish_seed(
        round=round, actor=staff_1, public_seed="03 17 22 28 31 + 09", source="福彩双色球 2026138 期"
    )
    with django_capture_on_commit_callbacks(execute=True):
        services.round_draw_start(round=round, actor=staff_1)
    round.refresh_from_db()
    assert round.status == RoundStatus.DRAWN and round.draw_progress == 100
    ranked = sorted(HousingApplication.objects.filter(round=round), key=lambda a: a.rank)
    expected = lottery.draw(
        public_seed=round.public_seed,
        round_id=round.pk,
        entries=[lottery.Entry(a.reference, a.applicant_list, a.bucket) for a in apps],
        buckets=round.buckets,
    )
    assert [a.reference for a in ranked] == [r.reference for r in expected]
    offers = HousingOffer.objects.filter(status=OfferStatus.OFFERED).order_by("application__rank")
    assert [o.application_id for o in offers] == [ranked[0].pk, ranked[1].pk]
    assert Unit.objects.filter(state=UnitState.OFFERED).count() == 2

    with django_capture_on_commit_callbacks(execute=True):
        services.housing_offer_decline(offer=offers[0], actor=ranked[0].applicant)
    third = HousingOffer.objects.get(application=ranked[2], status=OfferStatus.OFFERED)
    lease = services.housing_offer_accept(offer=third, actor=ranked[2].applicant)
    assert lease.rent_free_months == 12 and lease.unit.state == UnitState.LET
    assert HousingApplication.objects.get(pk=ranked[2].pk).status == A.HOUSED
    assert HousingApplication.objects.get(pk=ranked[0].pk).status == A.DECLINED
    assert Lease.objects.count() == 1
    # Running the draw again changes nothing.
    assert services.round_draw(round_id=round.pk)["already_drawn"]
    assert timezone.now() > round.closes_at
