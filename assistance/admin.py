from django.contrib import admin

from assistance.models import Pairing
from povertyapp.admin import CaseReadOnlyAdmin


@admin.register(Pairing)
class PairingAdmin(CaseReadOnlyAdmin):
    list_display = ["household", "name", "unit", "post", "start_date", "end_date"]
    search_fields = ["household__number", "name"]
    list_select_related = ["household"]
