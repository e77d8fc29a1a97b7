"""What the registry's services accept: the household, member and income fields that forms,
the API and the importer may set (never status), the value list each coded field is checked
against, and the relations the member checks know (户主, 配偶, relations that fix a sex)."""

from __future__ import annotations

from households.models import ValueList

HEAD = "户主"


SPOUSE = "配偶"


MIN_HEAD_AGE = 16


# Household fields the services accept from forms, the API and the importer (not status).
HOUSEHOLD_FIELDS = (
    "village",
    "group",
    "phone",
    "bank_name",
    "bank_account",
    "identification_standard",
    "poverty_attribute",
    "main_cause",
    "other_cause_1",
    "other_cause_2",
    "cause_note",
    "first_identified_year",
    "planned_exit_year",
    "is_military_family",
    "in_cooperative",
    "cultivated_land",
    "irrigated_land",
    "forest_land",
    "returned_farmland",
    "orchard_land",
    "pasture_land",
    "water_surface",
    "has_production_power",
    "has_household_power",
    "has_broadcast_tv",
    "distance_to_road_km",
    "road_type",
    "housing_area",
    "house_grade",
    "house_renovated",
    "water_safe",
    "water_difficult",
    "fuel_type",
    "has_sanitary_toilet",
    "relocated",
    "relocation_mode",
    "relocation_place",
    "food_secure",
    "clothing_secure",
)


MEMBER_FIELDS = (
    "name",
    "id_type",
    "id_number",
    "sex",
    "birth_date",
    "relation",
    "ethnicity",
    "political_status",
    "education",
    "school_status",
    "health",
    "illness_name",
    "disability_certificate",
    "disability_grade",
    "labour_skill",
    "work_status",
    "work_months",
    "is_active_soldier",
    "has_medical_insurance",
    "has_critical_illness_insurance",
    "has_pension_insurance",
    "receives_dibao",
    "is_tekun",
    "living_status",
    "compulsory_education_exemption",
    "phone",
)


HOUSEHOLD_LIST_FIELDS = {
    "poverty_attribute": ValueList.POVERTY_ATTRIBUTE,
    "main_cause": ValueList.CAUSE,
    "other_cause_1": ValueList.CAUSE,
    "other_cause_2": ValueList.CAUSE,
    "road_type": ValueList.ROAD_TYPE,
    "house_grade": ValueList.HOUSE_GRADE,
    "fuel_type": ValueList.FUEL_TYPE,
    "relocation_mode": ValueList.RELOCATION_MODE,
}


MEMBER_LIST_FIELDS = {
    "id_type": ValueList.ID_TYPE,
    "relation": ValueList.RELATION,
    "ethnicity": ValueList.ETHNICITY,
    "political_status": ValueList.POLITICAL_STATUS,
    "education": ValueList.EDUCATION,
    "school_status": ValueList.SCHOOL_STATUS,
    "labour_skill": ValueList.LABOUR_SKILL,
    "work_status": ValueList.WORK_STATUS,
    "living_status": ValueList.LIVING_STATUS,
}


MALE_RELATIONS = {
    "之子",
    "之女婿",
    "之孙子",
    "之外孙子",
    "之父",
    "之岳父",
    "之公公",
    "之祖父",
    "之外祖父",
}


FEMALE_RELATIONS = {
    "之女",
    "之儿媳",
    "之孙女",
    "之外孙女",
    "之母",
    "之岳母",
    "之婆婆",
    "之祖母",
    "之外祖母",
}


INCOME_FIELDS = (
    "wage",
    "production",
    "property_income",
    "family_planning",
    "dibao",
    "tekun",
    "pension",
    "eco_compensation",
    "other_transfer",
    "production_cost",
    "compliant_out_of_pocket",
    "insurance_claims",
)
