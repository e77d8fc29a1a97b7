"""The household list's filters, shared by the pages, the API and the ledgers."""

from __future__ import annotations

from typing import Any, ClassVar

import django_filters
from django import forms
from django.contrib.postgres.fields import ArrayField
from django.db import connection
from django.db.models import Exists, Func, OuterRef, Q, QuerySet, TextField
from django.db.models.expressions import Combinable
from django.utils import timezone
from django.utils.translation import gettext_lazy as _

from households.identity import normalise_id_number
from households.models import Household, Member, NationalEntry, ValueList
from households.value_lists import list_filter_choices
from povertyapp import forms as house
from povertyapp import roles

MAX_ID = 2**63 - 1  # the largest BigAutoField value


class NameCharacters(Func):
    """The characters of a text column as an array, `string_to_array(name, NULL)`: the
    expression of the GIN index `member_name_chars_idx` (households migration 0009)."""

    function = "string_to_array"
    template = "%(function)s(%(expressions)s, NULL)"
    output_field = ArrayField(TextField())


def name_contains(text: str) -> Q:
    """Members whose name contains `text`. On PostgreSQL the name's characters must include
    the text's first (GIN-indexed: Chinese searches are 1–3 characters, too short for
    trigrams); the LIKE stays as the exact test."""
    condition = Q(name__contains=text)
    if connection.vendor == "postgresql":
        condition &= Q(name_characters__contains=sorted(set(text)))
    return condition


class CountyNameKeys(Func):
    """Each character of a member's name keyed by the member's county,
    `'<county id>:<character>'`: the expression of the GIN index `member_county_name_keys_idx`
    (households migration 0022). A county's search reads only its own members' entries of a
    character, where `member_name_chars_idx` holds the whole province's (杨 with two thirds of
    a 10M-household province generated: 571,824 entries for the largest county's 18,720,
    162 ms to gather before the first row)."""

    function = "member_county_name_keys"
    output_field = ArrayField(TextField())


def county_name_contains(text: str, counties: list[int]) -> Q:
    """Members of these counties whose name contains `text`; on PostgreSQL through each
    county's own entries of the text's characters (the query aliases `county_name_keys` to
    `CountyNameKeys("county", "name")`): one index scan per county, OR-ed. The LIKE stays as
    the exact test."""
    if connection.vendor != "postgresql":
        return Q(name__contains=text, county_id__in=counties)
    # The keys hold the county: no `county_id = ...` beside them, which the planner would AND
    # with the (county, household) index's bitmap of all the county's members (786,280 rows,
    # 12 ms, in the largest county) to keep the same rows.
    keyed = Q()
    for county in counties:
        keyed |= Q(
            county_name_keys__contains=[f"{county}:{character}" for character in sorted(set(text))]
        )
    return Q(name__contains=text) & keyed


class HouseholdFilter(django_filters.FilterSet):
    q = django_filters.CharFilter(
        method="filter_text", label=_("搜索（姓名、身份证号码、户编号）"), max_length=64
    )
    region = django_filters.CharFilter(method="filter_region", label=_("区划代码"), max_length=15)
    # Bounded like the database ids: a bigger number would not even bind as a query parameter.
    # 县 and 乡镇: the steps of the list's region select above the 行政村 (a province user picks
    # the county first: a province has 26,000 villages, too many for one select).
    county = django_filters.NumberFilter(
        method="filter_county", label=_("县"), min_value=1, max_value=MAX_ID
    )
    township = django_filters.NumberFilter(
        method="filter_township", label=_("乡镇"), min_value=1, max_value=MAX_ID
    )
    village = django_filters.NumberFilter(
        field_name="village_id", label=_("行政村"), min_value=1, max_value=MAX_ID
    )
    group = django_filters.NumberFilter(
        field_name="group_id", label=_("村民小组"), min_value=1, max_value=MAX_ID
    )
    status = django_filters.ChoiceFilter(choices=Household.Status.choices, label=_("状态"))
    cause = django_filters.CharFilter(
        field_name="main_cause", label=_("主要致贫原因"), max_length=32
    )
    attribute = django_filters.CharFilter(
        field_name="poverty_attribute", label=_("贫困户属性"), max_length=16
    )
    year = django_filters.NumberFilter(
        field_name="first_identified_year", label=_("首次识别年度"), min_value=2010, max_value=2100
    )
    exit_year = django_filters.NumberFilter(
        field_name="exit_year", label=_("脱贫年度"), min_value=2010, max_value=2100
    )
    national = django_filters.ChoiceFilter(
        choices=(("not_entered", _("未录入国家系统")), ("entered", _("已录入国家系统"))),
        method="filter_national",
        label=_("录入国家系统"),
    )
    ordering = django_filters.OrderingFilter(
        fields=(
            ("number", "number"),
            ("head_name", "head"),
            ("person_count", "persons"),
            ("status", "status"),
            ("main_cause", "cause"),
            ("first_identified_year", "year"),
            ("updated_at", "updated"),
        ),
        label=_("排序"),
    )

    class Meta:
        model = Household
        fields: list[str] = []
        form = house.Form  # machine-format inputs and the one "required" wording

    _built_form_class: ClassVar[Any]  # set by get_form_class, per filter class

    def __init__(self, *args: Any, user: Any = None, **kwargs: Any) -> None:
        super().__init__(*args, **kwargs)
        self.user = user

    def get_form_class(self) -> Any:
        """The form class, built once per filter class: django-filter builds a new class,
        with a new field of every filter, for every list, search and export it filters (a
        third of a millisecond a request). The filters are the class's own and every form
        deep-copies its fields, so one class serves every request."""
        cls = type(self)
        if "_built_form_class" not in cls.__dict__:
            cls._built_form_class = super().get_form_class()
        return cls._built_form_class

    def offer_value_lists(self) -> None:
        """Show 主要致贫原因 and 贫困户属性 as selects of the labels of the user's province's value
        lists (this year's, as the household list offers them: `list_filter_choices`), so that
        a page drawing the form (the ledger page) is not a box to type a label into exactly.
        A value asked for that the list no longer holds stays offered. The list page builds
        its own options and does not call this."""
        if self.user is None:
            return
        labels = list_filter_choices(user=self.user, year=timezone.localdate().year)
        data = self.data or {}
        for name, list_key in (
            ("cause", ValueList.CAUSE),
            ("attribute", ValueList.POVERTY_ATTRIBUTE),
        ):
            offered = list(labels.get(list_key, []))
            asked = str(data.get(name) or "").strip()
            if asked and asked not in offered:
                offered.append(asked)
            field = self.form.fields[name]
            field.widget = forms.Select(  # (a text box's maxlength has no place on a select)
                choices=[("", _("全部")), *((label, label) for label in offered)],
                attrs={
                    attribute: value
                    for attribute, value in field.widget.attrs.items()
                    if attribute != "maxlength"
                },
            )

    def name_searched(self) -> str:
        """The name the list's search box looks for ("" for none, a 户编号 or an ID number):
        the rule of `filter_text`. Call after `is_valid()`."""
        text = (self.form.cleaned_data.get("q") or "").strip()
        if not text or text.isdigit() or len(normalise_id_number(text)) == 18:
            return ""
        return text

    def queryset_without_search(self) -> QuerySet[Household]:
        """The queryset under every valid filter but the search box's (`filter_queryset`
        without "q"): what a count driven from the matching members probes per household."""
        queryset = self.queryset
        for name, value in self.form.cleaned_data.items():
            if name != "q":
                queryset = self.filters[name].filter(queryset, value)
        return queryset

    def filter_region(self, queryset: QuerySet[Household], name: str, value: str):
        from povertyapp.models import Region

        region = Region.objects.filter(code=value).first()
        if region is None:
            return queryset.none()
        if region.level == Region.Level.GROUP:
            return queryset.filter(group=region)
        return queryset.filter(village__path__startswith=region.path)

    def filter_county(self, queryset: QuerySet[Household], name: str, value: Any):
        return _under(queryset, value, "county")

    def filter_township(self, queryset: QuerySet[Household], name: str, value: Any):
        return _under(queryset, value, "township")

    def filter_national(self, queryset: QuerySet[Household], name: str, value: str):
        """录入国家系统: the household's own mark (its members are marked with it)."""
        entered = Exists(
            NationalEntry.objects.filter(household=OuterRef("pk"), member__isnull=True)
        )
        return queryset.filter(entered if value == "entered" else ~entered)

    def filter_text(self, queryset: QuerySet[Household], name: str, value: str):
        text = value.strip()
        if not text:
            return queryset
        id_number = normalise_id_number(text)
        condition: Q | Combinable  # Q | Exists: Combinable in the stubs
        if len(id_number) == 18:
            # A full ID number finds its household; the list still shows it masked.
            condition = Q(number__startswith=text) | Exists(
                Member.objects.with_id_number(id_number).filter(household=OuterRef("pk"))
            )
        elif text.isdigit():
            condition = Q(number__startswith=text)  # 户编号 are digits, names never are
        else:
            condition = member_named(text)
        return queryset.filter(condition)


def members_named(text: str, user: Any) -> QuerySet[Any]:
    """The households (`household_id`) of the members in `user`'s scope whose name contains
    `text`: one uncorrelated subquery through the name index, for a list that ORs it with
    another test (`pk IN (…)`, hashed once), where a correlated EXISTS is run per household
    of the list (the helper list's name or village search at a county office of 20,000
    households on PostgreSQL: 175–196 ms with the EXISTS, 80–114 ms with this, its number
    search 71–83 ms)."""
    return (
        Member.objects.alias(name_characters=NameCharacters("name"))
        .filter(name_contains(text))
        .filter(roles.member_scope_q(user, Member))
        .values("household_id")
    )


def member_named(text: str) -> Exists:
    """Households with a member whose name contains `text`, over a household queryset.

    An EXISTS the database can run as a semi-join from the matching members (an OR with the
    户编号 test made it check every household in scope). The members' own county key, equal to
    their household's (always: see households.counties), lets PostgreSQL carry a county
    office's `county_id = <its county>` into the members' scan: only that county's matches,
    not the province's."""
    return Exists(
        Member.objects.alias(name_characters=NameCharacters("name")).filter(
            name_contains(text), household=OuterRef("pk"), county=OuterRef("county")
        )
    )


def level_region(region_id: Any, level: str) -> Any:
    """The region of `region_id` if it is of `level` (县, 乡镇), else None."""
    from povertyapp.models import Region

    return Region.objects.filter(pk=region_id, level=level).only("pk", "path").first()


def _under(queryset: QuerySet[Household], region_id: Any, level: str) -> QuerySet[Household]:
    """The households of the villages below a region of `level`; none for any other id."""
    region = level_region(region_id, level)
    if region is None:
        return queryset.none()
    return queryset.filter(village__path__startswith=region.path)
