from django.db import models
from django.utils.translation import gettext_lazy as _


class Role(models.TextChoices):
    GRADUATE = "graduate", _("Graduate")
    EMPLOYER = "employer", _("Employer member")
    DISTRICT_STAFF = "district_staff", _("District staff")
    CITY_STAFF = "city_staff", _("City staff")


class DistrictKind(models.TextChoices):
    DISTRICT = "district", _("Urban district")
    COUNTY = "county", _("County")
    ZONE = "zone", _("Function zone")


class EducationLevel(models.TextChoices):
    # Ordered from lowest to highest; rules compare by EDUCATION_RANK.
    JUNIOR_COLLEGE = "junior_college", _("Junior college (大专)")
    PREP_TECHNICIAN = "prep_technician", _("Preparatory technician (预备技师)")
    TECHNICIAN = "technician", _("Technician (技师)")
    BACHELOR = "bachelor", _("Bachelor (本科)")
    MASTER = "master", _("Master (硕士)")
    DOCTOR = "doctor", _("Doctor (博士)")


EDUCATION_RANK = {
    EducationLevel.JUNIOR_COLLEGE: 1,
    EducationLevel.PREP_TECHNICIAN: 2,
    EducationLevel.TECHNICIAN: 2,
    EducationLevel.BACHELOR: 3,
    EducationLevel.MASTER: 4,
    EducationLevel.DOCTOR: 5,
}


class Gender(models.TextChoices):
    MALE = "male", _("Male")
    FEMALE = "female", _("Female")


class OrganisationStatus(models.TextChoices):
    PENDING = "pending", _("Pending verification")
    VERIFIED = "verified", _("Verified")
    REJECTED = "rejected", _("Rejected")


class OrganisationKind(models.TextChoices):
    PRIVATE = "private", _("Private enterprise")
    STATE = "state", _("State-owned enterprise")
    PUBLIC = "public", _("Public institution")
    SOCIAL = "social", _("Social organisation")
    OTHER = "other", _("Other")


class OrganisationSize(models.TextChoices):
    MICRO = "micro", _("Fewer than 20 people")
    SMALL = "small", _("20 to 99 people")
    MEDIUM = "medium", _("100 to 499 people")
    LARGE = "large", _("500 people or more")


class Industry(models.TextChoices):
    EQUIPMENT = "equipment", _("Equipment manufacturing")
    MATERIALS = "materials", _("New materials")
    PETROCHEMICALS = "petrochemicals", _("Petrochemicals")
    AGRI_MACHINERY = "agri_machinery", _("Agricultural machinery")
    BEARINGS = "bearings", _("Bearings")
    ROBOTS = "robots", _("Robots")
    PHOTOVOLTAICS = "photovoltaics", _("Photovoltaics")
    OPTOELECTRONICS = "optoelectronics", _("Optoelectronics")
    ENERGY_STORAGE = "energy_storage", _("Energy storage and hydrogen")
    BIG_DATA = "big_data", _("Big data")
    BIO_HEALTH = "bio_health", _("Bio-health")
    CULTURE = "culture", _("Culture and creative")
    OTHER = "other", _("Other")


class MemberRole(models.TextChoices):
    OWNER = "owner", _("Owner")
    ADMIN = "admin", _("Administrator")
    MEMBER = "member", _("Member")


class DocumentKind(models.TextChoices):
    DEGREE_CERTIFICATE = "degree_certificate", _("Degree certificate")
    ID_PHOTO = "id_photo", _("ID card photo")
    CV = "cv", _("CV")
    BUSINESS_LICENCE = "business_licence", _("Business licence")
    INVITATION_LETTER = "invitation_letter", _("Interview invitation or offer letter")
    OTHER = "other", _("Other")


class Channel(models.TextChoices):
    IN_APP = "in_app", _("In-app inbox")
    EMAIL = "email", _("E-mail")
    SMS = "sms", _("SMS")


class DeliveryStatus(models.TextChoices):
    QUEUED = "queued", _("Queued")
    SENT = "sent", _("Sent")
    FAILED = "failed", _("Failed")
    SKIPPED = "skipped", _("Skipped")


class AuditAction(models.TextChoices):
    TRANSITION = "transition", _("Status change")
    DECISION = "decision", _("Staff decision")
    PII_UNMASK = "pii_unmask", _("Personal data unmasked")
    PII_VIEW = "pii_view", _("Record with personal data opened")
    EXPORT = "export", _("Export")
    DELETION = "deletion", _("Account deletion")
    RETENTION = "retention", _("Anonymised after the retention period")


class DeletionStatus(models.TextChoices):
    REQUESTED = "requested", _("Requested, being processed")
    COMPLETED = "completed", _("Completed: personal data anonymised")
