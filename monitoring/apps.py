from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class MonitoringConfig(AppConfig):
    name = "monitoring"
    verbose_name = _("防返贫动态监测")

    def ready(self) -> None:
        from monitoring import audit_labels

        audit_labels.register()

        register_objects()
        register_clues()
        register_figures()
        register_lists()
        register_merge_follower()

        # Photos taken offline at a clue's or a procedure's 入户核实 (issue 17).
        from monitoring import offline

        offline.register_offline_photos()

        # The work desk's panels: clues to verify and overdue; a department's lists.
        from monitoring import desk

        desk.register_desk_panels()


def register_objects() -> None:
    """Part A (monitoring objects): the two procedures on the registry's machine and the
    承诺授权 scan on the file door (served to whoever may see the object)."""
    from django.urls import reverse

    from households import detail_tabs
    from monitoring import objects, procedures
    from povertyapp import files

    procedures.register_procedures()
    detail_tabs.register_page_links(
        "monitoring.objects", objects.household_links, reads=objects.household_reads
    )
    detail_tabs.register_list_warnings("monitoring.risk", objects.list_warnings)
    files.register(
        "monitoring_consent",
        model="monitoring.MonitoringObject",
        field="consent",
        get_for_user=lambda user, object_id: objects.object_get_for_user(
            user=user, object_id=object_id
        ),
        page_url=lambda found: reverse("monitoring:object", args=[found.pk]),
        label=_("监测对象承诺授权书"),
    )


def register_clues() -> None:
    """Part B (the clues): the 承诺授权 scan and the field photos taken at a clue's 入户核实, on
    the file door (served to whoever may see the clue in the inbox); the photos also on the
    household page's 照片."""
    from django.urls import reverse

    from households import detail_tabs
    from monitoring import inbox
    from povertyapp import files

    files.register(
        "monitoring_clue_consent",
        model="monitoring.Clue",
        field="consent",
        get_for_user=_clue_for_file,
        page_url=lambda clue: reverse("monitoring:clue", args=[clue.pk]),
        label=_("风险线索承诺授权书"),
    )
    files.register(
        "clue_photo",
        model="monitoring.CluePhoto",
        field="photo",
        get_for_user=lambda user, object_id: inbox.clue_photo_get_for_user(
            user=user, photo_id=object_id
        ),
        page_url=lambda photo: reverse("monitoring:clue", args=[photo.clue_id]),
        label=_("线索入户核实照片"),
        image=True,
    )
    detail_tabs.register_photos(
        "clues",
        lambda household: [
            detail_tabs.Photo(
                kind="clue_photo",
                record=photo,
                caption=_clue_photo_caption(photo),
            )
            for photo in inbox.household_clue_photos(household)
        ],
    )


def _clue_photo_caption(photo: Any) -> str:
    """The caption of a clue's photo on the household page: what it is and the visit's date."""
    label = str(_("风险线索入户核实"))
    verified_on = photo.clue.verified_on
    return f"{label} {verified_on.isoformat()}" if verified_on else label


def _clue_for_file(user: Any, clue_id: int) -> Any:
    """The clue through the inbox's access path; a role outside the inbox learns nothing (404,
    as the file door answers outside the scope)."""
    from django.core.exceptions import PermissionDenied
    from django.http import Http404

    from monitoring import inbox

    try:
        return inbox.clue_get_for_user(user=user, clue_id=clue_id)
    except PermissionDenied:
        raise Http404 from None


def register_figures() -> None:
    """Part E (the dashboard): the cache generation bumped by the models' saves and deletes."""
    from monitoring import figures

    figures.register_figures()


def register_lists() -> None:
    """Part C (the departments' lists): the list-import job kind."""
    from monitoring import lists

    lists.register_lists()


def register_merge_follower() -> None:
    """A village merged away (撤并, `households.onboarding`): the clues filed on it follow its
    households to the survivor (the monitoring runs on)."""
    from households import hooks
    from monitoring.models import Clue

    def move(*, former: Any, into: Any, date: Any) -> dict[str, int]:
        return {"clues": Clue.objects.filter(region=former).update(region=into)}

    hooks.register_merge_follower(
        "monitoring", hooks.MergeFollower(check=lambda **_kwargs: [], move=move)
    )
