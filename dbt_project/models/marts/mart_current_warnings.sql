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
indicators as (
    select
        'indicator_off_target'::text as rule_code,
        'indicator'::text as entity_type,
        indicator_code as entity_code,
        indicator_name as entity_name,
        case
            when indicator_code in ('signed_projects', 'started_projects') then 'projects' else
                'indicators/' || source_department
        end as domain,
        year,
        make_date(year, period_month, 1) + interval '1 month' - interval '1 day' as period_end,
        case when as_of_date is not null then as_of_date::text
            else year || '年' || case when period_month = 1 then '1' else '1-' || period_month end || '月'
        end as period_label,
        warning_level as level,
        responsible_leader as leader_code,
        actual_value as measure_value,
        target_value,
        deviation_pp,
        -- a growth indicator's measure is its growth rate, whatever the unit of its absolute value
        case when target_type = 'growth' then '%' else unit end as measure_unit,
        gap_to_time_progress,
        gap_to_target,
        pace_needed_per_month,
        growth_needed_rest_of_year_pct,
        source_file
    from {{ ref('mart_indicator_monitoring') }}
    where warning_level <> 'no_data'
),

chains as (
    select
        'chain_output_behind',
        'industry_chain',
        chain_code,
        chain_name,
        'chains',
        year,
        make_date(year, period_month, 1) + interval '1 month' - interval '1 day',
        year || '年1-' || period_month || '月',
        warning_level,
        responsible_leader,
        ytd_output,
        output_target,
        deviation_pp,
        '亿元',
        gap_to_time_progress,
        gap_to_target,
        pace_needed_per_month,
        null::numeric,
        source_file
    from {{ ref('mart_industry_chain_monitoring') }}
    where warning_level <> 'no_data'
),

project_counts as (
    select
        'project_count_behind',
        'project_category',
        industry_category || '/新签约',
        industry_category || ' 新签约项目',
        'projects',
        year,
        as_of_date,
        as_of_date::text,
        signed_warning_level,
        'L02',
        signed_count::numeric,
        signed_target::numeric,
        signed_deviation_pp,
        '个',
        signed_gap_to_time_progress,
        signed_gap_to_target::numeric,
        null::numeric,
        null::numeric,
        null::text
    from {{ ref('mart_project_targets') }}
    -- The total (合计) is the 新签约项目数 indicator already; warning on it twice would double the mail.
    where industry_category <> '合计' and signed_warning_level <> 'no_data'
    union all
    select
        'project_count_behind',
        'project_category',
        industry_category || '/新开工',
        industry_category || ' 新开工项目',
        'projects',
        year,
        as_of_date,
        as_of_date::text,
        started_warning_level,
        'L02',
        started_count::numeric,
        started_target::numeric,
        started_deviation_pp,
        '个',
        started_gap_to_time_progress,
        started_gap_to_target::numeric,
        null::numeric,
        null::numeric,
        null::text
    from {{ ref('mart_project_targets') }}
    where industry_category <> '合计' and started_warning_level <> 'no_data'
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
    select
        'project_overdue_start',
        'project',
        project_code,
        project_name,
        'projects',
        year,
        as_of_date,
        as_of_date::text,
        {{ applicable_or_green('overdue_start_level') }},
        leader_code,
        overdue_start_days::numeric,
        null::numeric,
        null::numeric,
        '天',
        null::numeric,
        null::numeric,
        null::numeric,
        null::numeric,
        source_file
    from {{ ref('mart_project_progress') }}
    where overdue_start_level is distinct from 'no_data' and project_code in (select project_code from in_newest_ledger)
    union all
    select
        'project_investment_behind',
        'project',
        project_code,
        project_name,
        'projects',
        year,
        as_of_date,
        as_of_date::text,
        {{ applicable_or_green('investment_pace_level') }},
        leader_code,
        investment_pace_ratio,
        annual_plan_investment_wan,
        null::numeric,
        '比率',
        investment_gap_to_time_progress_wan,
        investment_gap_to_plan_wan,
        null::numeric,
        null::numeric,
        source_file
    from {{ ref('mart_project_progress') }}
    where investment_pace_level is distinct from 'no_data'
        and project_code in (select project_code from in_newest_ledger)
    union all
    select
        'project_stale',
        'project',
        project_code,
        project_name,
        'projects',
        year,
        as_of_date,
        as_of_date::text,
        {{ applicable_or_green('stale_level') }},
        leader_code,
        stale_days::numeric,
        null::numeric,
        null::numeric,
        '天',
        null::numeric,
        null::numeric,
        null::numeric,
        null::numeric,
        source_file
    from {{ ref('mart_project_progress') }}
    where stale_level is distinct from 'no_data' and project_code in (select project_code from in_newest_ledger)
),

issues as (
    select
        'issue_overdue',
        'issue',
        issue_code,
        issue_code || ' ' || coalesce(project_name, '') || '：' || coalesce(description, ''),
        'issues',
        year,
        as_of_date,
        as_of_date::text,
        warning_level,
        leader_code,
        overdue_days::numeric,
        null::numeric,
        null::numeric,
        '天',
        null::numeric,
        null::numeric,
        null::numeric,
        null::numeric,
        source_file
    from {{ ref('mart_issue_monitoring') }}
    where warning_level <> 'no_data' and issue_code in (select issue_code from in_newest_issue_ledger)
),

enterprises as (
    select
        'enterprise_decline',
        'enterprise',
        credit_code,
        enterprise_name,
        'enterprises',
        year,
        make_date(year, period_month, 1) + interval '1 month' - interval '1 day',
        year || '年1-' || period_month || '月',
        warning_level,
        leader_code,
        ytd_growth_pct,
        null::numeric,
        null::numeric,
        '%',
        null::numeric,
        null::numeric,
        null::numeric,
        null::numeric,
        source_file
    from {{ ref('mart_enterprise_monitoring') }}
    where warning_level <> 'no_data'
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

-- What a measure is judged against (target file and row, or the bootstrap seed): per entity and year.
-- (One target file or seed is in force for a year, so there is one source per entity and year.)
target_sources as (
    select
        'indicator_off_target'::text as rule_code,
        indicator_code as entity_code,
        year,
        target_source
    from {{ ref('mart_indicator_monitoring') }}
    where target_source is not null
    union
    select
        'chain_output_behind',
        chain_code,
        year,
        target_source
    from {{ ref('mart_industry_chain_monitoring') }}
    where target_source is not null
    union
    select
        'project_count_behind',
        industry_category || '/新签约',
        year,
        target_source
    from {{ ref('mart_project_targets') }}
    where target_source is not null
    union
    select
        'project_count_behind',
        industry_category || '/新开工',
        year,
        target_source
    from {{ ref('mart_project_targets') }}
    where target_source is not null
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
    period_end::date as period_end,
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
    target_sources.target_source
from ranked
left join target_sources using (rule_code, entity_code, year)
where recency = 1
