from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class PovertyappConfig(AppConfig):
    name = "povertyapp"
    verbose_name = _("区划与账号")
