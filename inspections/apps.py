from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class InspectionsConfig(AppConfig):
    name = "inspections"
    verbose_name = _("考核评估")

    def ready(self) -> None:
        from inspections import audit_labels

        audit_labels.register()

        register_file_kinds()

        # The work desk's panel: the campaigns not yet finished (inspections.desk).
        from inspections import desk

        desk.register_desk_panels()


def register_file_kinds() -> None:
    """Rectification evidence (整改佐证), served by the platform's file door (`povertyapp.files`)
    to whoever may see the rectification item."""
    from django.urls import reverse

    from inspections import selectors
    from povertyapp import files

    files.register(
        "rectification_evidence",
        model="inspections.RectificationEvidence",
        field="file",
        get_for_user=lambda user, object_id: selectors.rectification_evidence_get_for_user(
            user=user, evidence_id=object_id
        ),
        download_name=lambda evidence: evidence.name,
        page_url=lambda evidence: reverse("inspections:rectification", args=[evidence.item_id]),
        label=_("整改佐证材料"),
    )
