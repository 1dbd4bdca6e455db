"""Loose coupling only (STYLE.md): when a fact a subsidy rule reads changes in another app,
the affected open applications are queued for a re-check after commit. The workflow itself
never runs from a signal."""

from django.db import transaction
from django.db.models.signals import post_save


def _recheck_users(user_ids, reason: str) -> None:
    from subsidies.tasks import subsidies_recheck_users

    ids = [pk for pk in user_ids if pk]
    if ids:
        transaction.on_commit(lambda: subsidies_recheck_users.delay(ids, reason))


def profile_saved(sender, instance, created, **kwargs):
    _recheck_users([instance.user_id], "profile")


def job_application_saved(sender, instance, created, **kwargs):
    if instance.status == "hired":
        _recheck_users([instance.applicant_id], "hire")


def lease_saved(sender, instance, created, **kwargs):
    _recheck_users([instance.tenant_id], "lease")


def document_saved(sender, instance, created, **kwargs):
    if created:
        _recheck_users([instance.owner_id], "document")


def parameter_saved(sender, instance, created, **kwargs):
    if instance.key.startswith(("subsidy-", "min-wage-")):
        from subsidies.tasks import subsidies_recheck_all

        transaction.on_commit(lambda: subsidies_recheck_all.delay("parameter"))


def connect() -> None:
    from apartments.models import Lease
    from jobs.models import JobApplication
    from portal.models import ApplicantProfile, Document, Parameter

    post_save.connect(profile_saved, sender=ApplicantProfile, dispatch_uid="subsidies_profile")
    post_save.connect(job_application_saved, sender=JobApplication, dispatch_uid="subsidies_hire")
    post_save.connect(lease_saved, sender=Lease, dispatch_uid="subsidies_lease")
    post_save.connect(document_saved, sender=Document, dispatch_uid="subsidies_document")
    post_save.connect(parameter_saved, sender=Parameter, dispatch_uid="subsidies_parameter")
