-- 项目推进: every project in every weekly ledger with the three project rules —
-- overdue start (已签约, planned start passed, no actual start), investment pace (已开工, year's plan > 0)
-- and stale (已开工, nothing moved across ledgers) — and the worst of them as warning_level.
with
history as (select * from {{ ref('int_project_ledger_history') }}),

overdue_rule as ({{ warning_rule('project_overdue_start') }}),

pace_rule as ({{ warning_rule('project_investment_behind') }}),

stale_rule as ({{ warning_rule('project_stale') }}),

measured as (
    -- Each rule applies to some projects only. Where it applies, a missing figure gives no measure
    -- (no_data, which never closes a warning); where it does not apply, the rule's level is null.
    select
        history.*,
        {{ time_progress_day('history.as_of_date') }} as time_progress,
        history.stage = '已签约' and history.actual_start_date is null as overdue_start_applies,
        history.stage = '已开工'
        and (history.annual_plan_investment_wan is null or history.annual_plan_investment_wan > 0)
            as investment_pace_applies,
        history.stage = '已开工' as stale_applies
    from history
),

measures as (
    select
        measured.*,
        -- greatest() ignores nulls: without the date check a missing planned start would read as 0 days.
        case when measured.overdue_start_applies and measured.planned_start_date is not null
                then greatest(measured.as_of_date - measured.planned_start_date, 0)
        end as overdue_start_days,
        case when measured.investment_pace_applies
                then (measured.ytd_investment_wan / measured.annual_plan_investment_wan) / measured.time_progress
        end as investment_pace_raw,
        case when measured.stale_applies then measured.as_of_date - measured.unchanged_since end as stale_days
    from measured
),

classified as (
    select
        measures.*,
        case when overdue_start_applies then {{ warning_level('overdue_start_days', 'overdue_rule') }} end
            as overdue_start_level,
        case when investment_pace_applies then {{ warning_level('investment_pace_raw', 'pace_rule') }} end
            as investment_pace_level,
        case when stale_applies then {{ warning_level('stale_days', 'stale_rule') }} end as stale_level
    from measures
    cross join overdue_rule
    cross join pace_rule
    cross join stale_rule
)

select
    project_code,
    project_name,
    as_of_date,
    extract(year from as_of_date)::integer as year,
    stage,
    project_library,
    industry_category,
    chain_name,
    leader_code,
    leader_title,
    leader_unknown,
    total_investment_wan,
    annual_plan_investment_wan,
    ytd_investment_wan,
    signed_date,
    planned_start_date,
    actual_start_date,
    progress,
    responsible_unit,
    town,
    round(time_progress * 100, 4) as time_progress_pct,
    overdue_start_days,
    round(investment_pace_raw, 4) as investment_pace_ratio,
    stale_days,
    unchanged_since,
    overdue_start_level,
    investment_pace_level,
    stale_level,
    {{ worst_level(['overdue_start_level', 'investment_pace_level', 'stale_level']) }} as warning_level,
    -- Investment still missing against time progress and against the year's plan (万元).
    case when investment_pace_raw is not null
            then round(annual_plan_investment_wan * time_progress - ytd_investment_wan, 2)
    end as investment_gap_to_time_progress_wan,
    case when investment_pace_raw is not null
            then round(annual_plan_investment_wan - ytd_investment_wan, 2)
    end as investment_gap_to_plan_wan,
    source_file,
    source_row
from classified
