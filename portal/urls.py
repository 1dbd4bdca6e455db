"""Root URL configuration: the portal's own pages, each app's pages, the admin, accounts
(django-allauth) and the API under /api/v1/."""

from allauth.account.decorators import secure_admin_login
from django.conf import settings
from django.contrib import admin
from django.urls import include, path
from drf_spectacular.views import SpectacularAPIView, SpectacularSwaggerSplitView

from portal import views
from portal.security import with_policy

SWAGGER_ORIGIN = "https://cdn.jsdelivr.net"

admin.site.login = secure_admin_login(admin.site.login)

# JSON for /api/ addresses that no pattern takes or that Django refuses before any view.
handler400 = "portal.views.bad_request"
handler404 = "portal.views.page_not_found"

portal_patterns = [
    path("", views.home, name="home"),
    path("profile/", views.profile, name="profile"),
    path("profile/consent/", views.consent, name="consent"),
    path("profile/export.json", views.data_export, name="data_export"),
    path("profile/delete/", views.deletion_request, name="deletion_request"),
    path("profile/documents/", views.document_upload, name="document_upload"),
    path("profile/documents/<int:pk>/delete/", views.document_delete, name="document_delete"),
    path("documents/<int:pk>/", views.document_download, name="document_download"),
    path("my/applications/", views.applications, name="applications"),
    path("notifications/", views.inbox, name="inbox"),
    path("notifications/read/", views.inbox_mark_read, name="inbox_mark_read"),
    path("notifications/preferences/", views.inbox_preferences, name="inbox_preferences"),
    path("organisations/", views.organisation_list, name="organisation_list"),
    path("organisations/new/", views.organisation_create, name="organisation_create"),
    path("organisations/<int:pk>/", views.organisation_detail, name="organisation_detail"),
    path(
        "organisations/<int:pk>/documents/",
        views.organisation_document_upload,
        name="organisation_document_upload",
    ),
]

api_v1 = [
    path("", include("portal.api")),
    path("", include("jobs.api")),
    path("", include("apartments.api")),
    path("", include("events.api")),
    path("", include("subsidies.api")),
]

urlpatterns = [
    path("", include((portal_patterns, "portal"))),
    path("jobs/", include("jobs.urls")),
    path("", include("apartments.urls")),
    path("events/", include("events.urls")),
    path("subsidies/", include("subsidies.urls")),
    path("healthz", views.healthz, name="healthz"),
    path("i18n/", include("django.conf.urls.i18n")),
    path("accounts/", include("allauth.urls")),
    path("admin/", admin.site.urls),
    path("api/v1/", include(api_v1)),
    path("api/schema/", SpectacularAPIView.as_view(), name="api-schema"),
    # Swagger UI comes from its pinned release on jsDelivr (SPECTACULAR_SETTINGS); this one
    # page allows that origin, and the split view serves its start-up script from here.
    path(
        "api/docs/",
        with_policy(
            script_src=f"'self' {SWAGGER_ORIGIN}",
            style_src=f"'self' 'unsafe-inline' {SWAGGER_ORIGIN}",
            img_src=f"'self' data: {SWAGGER_ORIGIN}",
        )(SpectacularSwaggerSplitView.as_view(url_name="api-schema")),
        name="api-docs",
    ),
]

if settings.DEBUG:
    from django.contrib.staticfiles.urls import staticfiles_urlpatterns

    urlpatterns += staticfiles_urlpatterns()
