from django.urls import include, path

from povertyapp.ledgers import views

app_name = "ledgers"

urlpatterns = [
    path("", views.ledger_index, name="index"),
    path("export/", views.ledger_export, name="export"),
    # The household import is the registry's (a dotted path, not an import): its pages keep
    # the ledger pages' address and namespace, where the menu and the 导入农户 button lead.
    path("import/", include("households.import_urls")),
    # The assistance workbooks (issue 16), the same way: 帮扶措施, 结对帮扶, 项目库.
    path("import/assistance/", include("assistance.import_urls")),
]
