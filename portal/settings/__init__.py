"""Settings package. ``portal.settings.development`` is the default (see manage.py);
``portal.settings.production`` is the deployable shape."""
