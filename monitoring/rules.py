"""The local rules of monitoring (clocks, thresholds): the nearest area's `LocalRules` row up the
region tree, else the national defaults (an unsaved row with the fields' defaults)."""

from __future__ import annotations

from monitoring.models import LocalRules
from povertyapp.models import Region


def rules_for(region: Region) -> LocalRules:
    # Nearest first: the region itself, then its parents up to the province.
    chain = [node.pk for node in reversed(region.ancestors(include_self=True))]
    found = {rules.region_id: rules for rules in LocalRules.objects.filter(region_id__in=chain)}
    for pk in chain:
        if pk in found:
            return found[pk]
    return LocalRules(region=region)
