import datetime as dt

import factory
from django.utils import timezone

from jobs.constants import ApplicationStatus, PositionKind, PositionStatus, RejectionReason
from jobs.models import JobApplication, Position, TraineeshipBase
from portal.constants import EducationLevel, Industry
from tests.portal.factories import OrganisationFactory, ProfileFactory


def _in_days(days: int):
    return factory.LazyFunction(lambda: timezone.localdate() + dt.timedelta(days=days))


class PositionFactory(factory.django.DjangoModelFactory):
    """A position of a verified organisation, in the organisation's district. A draft by
    default; one trait per status (``published=True`` and so on)."""

    class Meta:
        model = Position
        skip_postgeneration_save = True

    organisation = factory.SubFactory(OrganisationFactory, verified=True)
    kind = PositionKind.JOB
    title = factory.Sequence(lambda n: f"轴承工艺工程师 {n}")
    description = "负责精密轴承生产工艺优化，参与新产品试制。"
    district = factory.SelfAttribute("organisation.district")
    industry = Industry.BEARINGS
    education_level = EducationLevel.BACHELOR
    majors = "机械工程,材料科学与工程"
    headcount = 2
    salary_min = 6000
    salary_max = 9000
    work_address = "洛阳市洛龙区开元大道 1 号"
    deadline = _in_days(30)
    status = PositionStatus.DRAFT

    class Params:
        draft = factory.Trait(status=PositionStatus.DRAFT)
        pending = factory.Trait(status=PositionStatus.PENDING)
        published = factory.Trait(status=PositionStatus.PUBLISHED, published_at=factory.LazyFunction(timezone.now))
        rejected = factory.Trait(
            status=PositionStatus.REJECTED,
            rejection_reason=RejectionReason.INCOMPLETE,
            status_reason="岗位描述不完整",
        )
        closed = factory.Trait(status=PositionStatus.CLOSED, published_at=factory.LazyFunction(timezone.now))
        expired = factory.Trait(
            status=PositionStatus.EXPIRED,
            published_at=factory.LazyFunction(lambda: timezone.now() - dt.timedelta(days=40)),
            deadline=_in_days(-1),
        )

    @factory.post_generation
    def search(self, create, extracted, **kwargs):
        # The services keep search_text; a factory row must be findable the same way.
        self.search_text = self.compose_search_text()
        if create:
            Position.objects.filter(pk=self.pk).update(search_text=self.search_text)


class JobApplicationFactory(factory.django.DjangoModelFactory):
    """An application of a graduate with a complete profile to a published position;
    one trait per status."""

    class Meta:
        model = JobApplication

    position = factory.SubFactory(PositionFactory, published=True)
    applicant = factory.LazyFunction(lambda: ProfileFactory(complete=True).user)
    cover_note = "我对这个岗位很感兴趣。"
    status = ApplicationStatus.SUBMITTED

    class Params:
        submitted = factory.Trait(status=ApplicationStatus.SUBMITTED)
        viewed = factory.Trait(status=ApplicationStatus.VIEWED)
        interview = factory.Trait(status=ApplicationStatus.INTERVIEW)
        offered = factory.Trait(status=ApplicationStatus.OFFERED)
        hired = factory.Trait(status=ApplicationStatus.HIRED)
        rejected = factory.Trait(status=ApplicationStatus.REJECTED, status_reason="岗位已满")
        withdrawn = factory.Trait(status=ApplicationStatus.WITHDRAWN)


class TraineeshipBaseFactory(factory.django.DjangoModelFactory):
    class Meta:
        model = TraineeshipBase

    organisation = factory.SubFactory(OrganisationFactory, verified=True)
    description = "洛阳市就业见习基地：提供机械、质量、数据岗位见习。"
    active = True
