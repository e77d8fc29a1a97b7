"""Onboarding a county (issue 16): the region tree (统计用区划代码和城乡划分代码), the village-year
data (村年度信息) and the resident teams (驻村工作队), each imported from a workbook (the regions
also from the statistics office's CSV, UTF-8 or GBK) with the household import's rules: the
whole file validated before anything is written, per-row errors and an error workbook, all or
nothing, a re-import of the same file a no-op. See docs/onboarding.md.

The modules, bottom to top (each imports only those before it):

    tables.py     the files read (xlsx or CSV), the report, the error workbook, the templates
    regions.py    the region tree: codes, levels, parents, renames, re-codings, merges
    villages.py   村年度信息 and 驻村工作队
    jobs.py       the page's import job (kind `households.onboarding_import`), registered on import
    template.py   the blank template of each import

The platform owns the models (`Region`, `RegionName`, `VillageYear`, `ResidentTeamMember`); the
imports live here, on the registry's floor, because a merge moves households and because they
reuse the household import's cell parsing and errors.
"""

from households.onboarding.jobs import (
    KINDS,
    ONBOARDING_JOB,
    error_lines,
    onboarding_import,
    run_onboarding_job,
    write_error_workbook,
)
from households.onboarding.regions import import_regions, level_of
from households.onboarding.tables import OnboardingReport
from households.onboarding.template import onboarding_template
from households.onboarding.villages import import_resident_teams, import_village_years

__all__ = [
    "KINDS",
    "ONBOARDING_JOB",
    "OnboardingReport",
    "error_lines",
    "import_regions",
    "import_resident_teams",
    "import_village_years",
    "level_of",
    "onboarding_import",
    "onboarding_template",
    "run_onboarding_job",
    "write_error_workbook",
]
