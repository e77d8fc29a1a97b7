from typing import Any

from django.apps import AppConfig
from django.utils.translation import gettext_lazy as _


class AssistanceConfig(AppConfig):
    name = "assistance"
    verbose_name = _("帮扶")

    def ready(self) -> None:
        from assistance import audit_labels

        audit_labels.register()

        # The coverage job kind registers itself on import; the web process (which enqueues)
        # and the worker (which runs) both need it.
        from assistance import tasks  # noqa: F401

        register_hooks()
        register_files()
        register_demo_rows()
        register_merge_follower()

        # The work desk's panel: the households with a visit, a measure or a plan due.
        from assistance import desk

        desk.register_desk_panels()


def register_hooks() -> None:
    """What the apps below ask of assistance without importing it: the households a helper sees
    (`povertyapp.roles`), who has a helper and how many measures for the data-quality rules
    (`households.quality`), the warning badge of the household page's 帮扶 tab, its link
    to the household's 资产收益 and the household list's warnings of work due
    (`households.detail_tabs`)."""
    from assistance import matching, selectors
    from households import detail_tabs, quality
    from povertyapp import roles

    roles.register_helper_scope(
        exists=selectors.helper_households_exists, q=selectors.helper_households_q
    )
    quality.register_helped_households(
        selectors.helped_households, condition=selectors.helped_condition
    )
    quality.register_measure_counts(
        selectors.effective_measure_counts, count=selectors.effective_measure_count
    )
    detail_tabs.register_page_links(
        "assistance.assets",
        selectors.household_asset_links,
        reads=selectors.household_asset_reads,
    )
    # The household list's line of warnings: a visit, a measure, a plan due (the desk's rule).
    detail_tabs.register_list_warnings("assistance.due", selectors.list_warnings)
    detail_tabs.register_tab_warnings(
        "assistance",
        lambda household, *, on, members: (
            matching.assess_household(household, on=on, members=members).warning_count
        ),
    )


def register_files() -> None:
    """The photos of visits, served inline by the file door (`povertyapp.files`), and shown in
    the household page's 照片 section (`households.detail_tabs.register_photos`)."""
    from django.urls import reverse

    from assistance import selectors
    from households import detail_tabs
    from povertyapp import files

    files.register(
        "visit_photo",
        model="assistance.VisitPhoto",
        field="photo",
        get_for_user=lambda user, object_id: selectors.visit_photo_get_for_user(
            user=user, photo_id=object_id
        ),
        page_url=lambda photo: (
            f"{reverse('assistance:household', args=[photo.visit.household_id])}?tab=visits"
        ),
        label=_("走访照片"),
        image=True,
    )
    detail_tabs.register_photos(
        "visits",
        lambda household: [
            detail_tabs.Photo(
                kind="visit_photo",
                record=photo,
                caption=_("走访 %(date)s") % {"date": photo.visit.date.isoformat()},
            )
            for photo in selectors.household_visit_photos(household)
        ],
    )


def register_demo_rows() -> None:
    """The demo's 帮扶责任人 pairings are generated in the registry's own pass, one per
    registered household (`households.demo.register_rows`), so the registry's demo needs no
    import of this app."""
    from assistance import demo
    from households import demo as registry_demo

    registry_demo.register_rows(demo.PAIRINGS)


def register_merge_follower() -> None:
    """A village merged away (撤并, `households.onboarding`): its open projects, its assets and
    its sponsors of the merge's year and later belong to the survivor."""
    from assistance.models import Asset, Project, VillageSponsor
    from households import hooks

    def check(*, former: Any, into: Any, date: Any) -> list[str]:
        if into is None:
            return []
        clashes = VillageSponsor.objects.filter(
            village=into,
            year__gte=date.year,
            unit__in=VillageSponsor.objects.filter(village=former, year__gte=date.year).values(
                "unit"
            ),
        ).values_list("year", "unit")
        return [
            _("%(into)s与%(former)s在%(year)d年有同一帮扶单位“%(unit)s”，请先删除其中一条。")
            % {"into": into.name, "former": former.name, "year": year, "unit": unit}
            for year, unit in clashes
        ]

    def move(*, former: Any, into: Any, date: Any) -> dict[str, int]:
        return {
            "projects": Project.objects.filter(region=former)
            .exclude(status=Project.Status.CLOSED)
            .update(region=into),
            "assets": Asset.objects.filter(village=former).update(village=into),
            "village_sponsors": VillageSponsor.objects.filter(
                village=former, year__gte=date.year
            ).update(village=into),
        }

    hooks.register_merge_follower("assistance", hooks.MergeFollower(check=check, move=move))
