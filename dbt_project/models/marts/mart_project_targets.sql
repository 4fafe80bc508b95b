-- 招商引资目标: new signings and new starts per 产业类别 and in total (合计) in each weekly ledger,
-- against that year's targets and time progress (day of year of the as-of date). A category without a
-- target that year is no_target (never last year's, never zero).
with
counts as (select * from {{ ref('int_project_counts') }}),

category_targets as (select * from {{ ref('int_targets__project_counts') }}),

rules as ({{ warning_rule('project_count_behind') }}),

measured as (
    select
        counts.year,
        counts.as_of_date,
        counts.industry_category,
        counts.signed_count,
        category_targets.signed_target,
        counts.started_count,
        category_targets.started_target,
        category_targets.target_source,
        {{ time_progress_day('counts.as_of_date') }} as time_progress,
        counts.signed_count::numeric / nullif(category_targets.signed_target, 0) * 100
        - {{ time_progress_day('counts.as_of_date') }} * 100 as signed_deviation_raw,
        counts.started_count::numeric / nullif(category_targets.started_target, 0) * 100
        - {{ time_progress_day('counts.as_of_date') }} * 100 as started_deviation_raw
    from counts
    left join category_targets
        on counts.year = category_targets.year and counts.industry_category = category_targets.industry_category
)

select
    year,
    as_of_date,
    industry_category,
    signed_count,
    signed_target,
    started_count,
    started_target,
    round(time_progress * 100, 4) as time_progress_pct,
    round(signed_deviation_raw, 4) as signed_deviation_pp,
    round(started_deviation_raw, 4) as started_deviation_pp,
    case when signed_target is null then 'no_target' else {{ warning_level('signed_deviation_raw', 'rules') }} end
        as signed_warning_level,
    case when started_target is null then 'no_target' else {{ warning_level('started_deviation_raw', 'rules') }} end
        as started_warning_level,
    round(signed_target * time_progress - signed_count, 2) as signed_gap_to_time_progress,
    signed_target - signed_count as signed_gap_to_target,
    round(started_target * time_progress - started_count, 2) as started_gap_to_time_progress,
    started_target - started_count as started_gap_to_target,
    target_source
from measured
cross join rules
