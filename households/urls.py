from django.urls import path

from households.views import batches, members, national, onboarding, procedures, quality, registry

app_name = "households"

urlpatterns = [
    path("", registry.household_list_view, name="list"),
    path("onboarding/regions/", onboarding.import_regions_view, name="import_regions"),
    path(
        "onboarding/village-years/",
        onboarding.import_village_years_view,
        name="import_village_years",
    ),
    path(
        "onboarding/resident-teams/",
        onboarding.import_resident_teams_view,
        name="import_resident_teams",
    ),
    path(
        "onboarding/<str:what>/template/",
        onboarding.onboarding_template_view,
        name="onboarding_template",
    ),
    path("group-options/", registry.group_options_view, name="group-options"),
    path("new/", registry.household_create_view, name="create"),
    path("<int:household_id>/", registry.household_detail, name="detail"),
    path("<int:household_id>/edit/", registry.household_edit_view, name="edit"),
    path(
        "<int:household_id>/assistance-badge/",
        registry.household_assistance_badge,
        name="assistance-badge",
    ),
    path("<int:household_id>/income/<int:year>/", members.income_edit_view, name="income"),
    path(
        "<int:household_id>/members/<int:member_id>/remove/",
        members.member_remove_view,
        name="member-remove",
    ),
    path(
        "<int:household_id>/members/<int:member_id>/move/",
        members.member_move_view,
        name="member-move",
    ),
    path(
        "<int:household_id>/procedures/<str:kind>/start/",
        procedures.workflow_start_view,
        name="workflow-start",
    ),
    path("cases/<int:workflow_id>/", procedures.workflow_detail_view, name="workflow"),
    path(
        "cases/<int:workflow_id>/complete/",
        procedures.workflow_complete_view,
        name="workflow-complete",
    ),
    path(
        "cases/<int:workflow_id>/return/", procedures.workflow_return_view, name="workflow-return"
    ),
    path(
        "cases/<int:workflow_id>/withdraw/",
        procedures.workflow_withdraw_view,
        name="workflow-withdraw",
    ),
    path("cases/<int:workflow_id>/notice/", procedures.notice_start_view, name="notice-start"),
    path(
        "cases/<int:workflow_id>/objection/",
        procedures.notice_objection_view,
        name="notice-objection",
    ),
    path("notices/<int:notice_id>/print/", procedures.notice_print_view, name="notice-print"),
    path("todo/", procedures.todo_view, name="todo"),
    path("batches/", batches.batch_list_view, name="batches"),
    path("batches/new/", batches.batch_create_view, name="batch-create"),
    path("batches/<int:batch_id>/", batches.batch_detail_view, name="batch"),
    path("batches/<int:batch_id>/meeting/", batches.batch_meeting_view, name="batch-meeting"),
    path("batches/<int:batch_id>/notice/", batches.batch_notice_view, name="batch-notice"),
    path("batches/<int:batch_id>/step/", batches.batch_step_view, name="batch-step"),
    path(
        "batches/<int:batch_id>/notice/print/",
        batches.batch_notice_print_view,
        name="batch-notice-print",
    ),
    path("national/", national.national_index_view, name="national"),
    path("national/export/", national.national_export_view, name="national-export"),
    path("national/mark/", national.national_mark_bulk_view, name="national-mark"),
    path("national/reconcile/", national.national_reconcile_view, name="national-reconcile"),
    path("national/reconcile/<int:job_id>/", national.national_report_view, name="national-report"),
    path(
        "<int:household_id>/national-mark/",
        national.national_mark_view,
        name="national-mark-household",
    ),
    path("quality/", quality.quality_view, name="quality"),
    path("quality/run/", quality.quality_run_view, name="quality-run"),
    path("quality/<int:problem_id>/explain/", quality.problem_explain_view, name="problem-explain"),
    path("quality/<int:problem_id>/review/", quality.problem_review_view, name="problem-review"),
]
