-- The current state of every monitored entity in one shape, which alerting reads: for each rule and
-- entity, its newest period that has data (a quarterly indicator keeps its quarter-end level until
-- the next quarter is reported). Green rows are kept so that a warning whose data recovered can close.
-- A project or issue rule that no longer applies (the project started, the issue was closed) is green;
-- a missing figure (no_data) leaves the warning as it was. A measure of a year without a target
-- (no_target) is kept: it never opens a warning, but its arrival ends last year's (`year_ended`), as the
-- spec's year end says, whether or not the new year's target file has come.
-- domain names the data a warning depends on (indicators/<department>, chains, projects, issues,
-- enterprises), so the quality gate can withhold exactly the alerts whose data failed a check.
-- Years: indicator, chain and project-count warnings are judged against a year's target, so their key
-- carries the year and each year keeps its newest row (alerting closes last year's as `year_ended` once a
-- later year's row is here). Project, issue and enterprise warnings follow an entity across New Year:
-- their key has no year and only the entity's newest row is kept.
with
catalogue as (select * from {{ ref('indicators') }}),

-- Each branch names its columns (macros/current_warning.sql). A growth indicator's measure is its growth
-- rate, whatever the unit of its absolute value.
indicators as (
    {{ current_warning(
        rule_code='indicator_off_target',
        entity_type='indicator',
        relation=ref('mart_indicator_monitoring'),
        entity_code='indicator_code',
        entity_name='indicator_name',
        domain='alert_domain',
        period_label="case when as_of_date is not null then as_of_date::text
            else year || '年' || case when period_month = 1 then '1' else '1-' || period_month end || '月' end",
        leader_code='responsible_leader',
        measure_value='actual_value',
        measure_unit="case when target_type = 'growth' then '%' else unit end",
        target_value='target_value',
        deviation_pp='deviation_pp',
        gap_to_time_progress='gap_to_time_progress',
        gap_to_target='gap_to_target',
        pace_needed_per_month='pace_needed_per_month',
        growth_needed_rest_of_year_pct='growth_needed_rest_of_year_pct',
        target_source='target_source',
    ) }}
),

chains as (
    {{ current_warning(
        rule_code='chain_output_behind',
        entity_type='industry_chain',
        relation=ref('mart_industry_chain_monitoring'),
        entity_code='chain_code',
        entity_name='chain_name',
        domain="'chains'",
        leader_code='responsible_leader',
        measure_value='ytd_output',
        measure_unit="'亿元'",
        target_value='output_target',
        deviation_pp='deviation_pp',
        gap_to_time_progress='gap_to_time_progress',
        gap_to_target='gap_to_target',
        pace_needed_per_month='pace_needed_per_month',
        target_source='target_source',
    ) }}
),

project_counts as (
    {{ project_count_warning('signed', '新签约', 'signed_projects', 'catalogue') }}
    union all
    {{ project_count_warning('started', '新开工', 'started_projects', 'catalogue') }}
),

-- Ledgers are full snapshots: a project or issue no longer in the newest one is no longer followed, and
-- alerting closes its warnings (a missing figure of a project still listed keeps its warning).
in_newest_ledger as (
    select project_code from {{ ref('mart_project_progress') }}
    where as_of_date = (select max(as_of_date) from {{ ref('mart_project_progress') }})
),

in_newest_issue_ledger as (
    select issue_code from {{ ref('mart_issue_monitoring') }}
    where as_of_date = (select max(as_of_date) from {{ ref('mart_issue_monitoring') }})
),

projects as (
    {{ project_warning(
        rule_code='project_overdue_start',
        level='overdue_start_level',
        measure_value='overdue_start_days',
        measure_unit="'天'",
        newest_ledger='in_newest_ledger',
    ) }}
    union all
    {{ project_warning(
        rule_code='project_investment_behind',
        level='investment_pace_level',
        measure_value='investment_pace_ratio',
        measure_unit="'比率'",
        newest_ledger='in_newest_ledger',
        target_value='annual_plan_investment_wan',
        gap_to_time_progress='investment_gap_to_time_progress_wan',
        gap_to_target='investment_gap_to_plan_wan',
    ) }}
    union all
    {{ project_warning(
        rule_code='project_stale',
        level='stale_level',
        measure_value='stale_days',
        measure_unit="'天'",
        newest_ledger='in_newest_ledger',
    ) }}
),

issues as (
    {{ current_warning(
        rule_code='issue_overdue',
        entity_type='issue',
        relation=ref('mart_issue_monitoring'),
        where="warning_level <> 'no_data' and issue_code in (select issue_code from in_newest_issue_ledger)",
        entity_code='issue_code',
        entity_name="issue_code || ' ' || coalesce(project_name, '') || '：' || coalesce(description, '')",
        domain="'issues'",
        period_end='as_of_date',
        period_label='as_of_date::text',
        leader_code='leader_code',
        measure_value='overdue_days',
        measure_unit="'天'",
    ) }}
),

-- An enterprise's newest row with data is kept by int_enterprise_newest, incrementally: ranking every month
-- of mart_enterprise_monitoring here would read its whole history on each build.
enterprises as (
    {{ current_warning(
        rule_code='enterprise_decline',
        entity_type='enterprise',
        relation=ref('int_enterprise_newest'),
        entity_code='credit_code',
        entity_name='enterprise_name',
        domain="'enterprises'",
        leader_code='leader_code',
        measure_value='ytd_growth_pct',
        measure_unit="'%'",
    ) }}
),

unioned as (
    select * from indicators
    union all
    select * from chains
    union all
    select * from project_counts
    union all
    select * from projects
    union all
    select * from issues
    union all
    select * from enterprises
),

scoped as (
    select
        unioned.*,
        unioned.entity_type in ('indicator', 'industry_chain', 'project_category') as per_year
    from unioned
),

ranked as (
    select
        scoped.*,
        row_number() over (
            partition by scoped.rule_code, scoped.entity_code, case when scoped.per_year then scoped.year end
            order by scoped.period_end desc
        ) as recency
    from scoped
)

select
    rule_code || ':' || entity_code || case when per_year then ':' || year else '' end as alert_key,
    rule_code,
    entity_type,
    entity_code,
    entity_name,
    domain,
    year,
    period_end,
    period_label,
    level,
    leader_code,
    measure_value,
    target_value,
    deviation_pp,
    measure_unit,
    gap_to_time_progress,
    gap_to_target,
    pace_needed_per_month,
    growth_needed_rest_of_year_pct,
    source_file,
    target_source
from ranked
where recency = 1
