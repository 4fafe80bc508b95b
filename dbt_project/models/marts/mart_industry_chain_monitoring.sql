-- 产业链监测: every chain with an output target, for every month 工信局 reported, against that year's target
-- and time progress. In a year without any chain target (no 产业链目标 delivered) every chain that has ever
-- had one is listed as no_target: never last year's target, never zero.
with
targets as (select * from {{ ref('int_targets__chains') }}),

monitored as (
    select
        chain_code,
        chain_name,
        industry_category,
        responsible_leader
    from {{ ref('industry_chains') }}
    where chain_code in (select chain_code from targets)
),

rules as ({{ warning_rule('chain_output_behind') }}),

reported as (
    select
        names.chain_code,
        report.*
    from {{ ref('stg_gxj__chain_report') }} as report
    inner join {{ ref('stg_reference__chain_names') }} as names on report.chain_name = names.lookup_name
),

periods as (
    select distinct
        year,
        period_month
    from reported
),

chains as (
    select
        monitored.*,
        periods.year,
        periods.period_month,
        targets.output_target,
        targets.target_source
    from monitored
    cross join periods
    left join targets on monitored.chain_code = targets.chain_code and periods.year = targets.year
    -- a year with chain targets monitors the chains it gives a target; a year without any, all of them
    where targets.chain_code is not null or periods.year not in (select with_targets.year from targets as with_targets)
),

measured as (
    select
        chains.chain_code,
        chains.chain_name,
        chains.industry_category,
        chains.responsible_leader,
        chains.year,
        chains.period_month,
        reported.ytd_output_yi as ytd_output,
        reported.month_output_yi as month_output,
        reported.ytd_growth_pct,
        chains.output_target,
        chains.target_source,
        {{ time_progress_month('chains.period_month') }} as time_progress,
        reported.ytd_output_yi / nullif(chains.output_target, 0) * 100
        - {{ time_progress_month('chains.period_month') }} * 100 as deviation_raw,
        12 - chains.period_month as remaining_months,
        reported.source_file,
        reported.source_row
    from chains
    left join reported
        on chains.chain_code = reported.chain_code
            and chains.year = reported.year and chains.period_month = reported.period_month
)

select
    chain_code,
    chain_name,
    industry_category,
    year,
    period_month,
    ytd_output,
    month_output,
    ytd_growth_pct,
    output_target,
    target_source,
    round(time_progress * 100, 4) as time_progress_pct,
    round(deviation_raw, 4) as deviation_pp,
    case when output_target is null then 'no_target' else {{ warning_level('deviation_raw', 'rules') }} end
        as warning_level,
    round(output_target * time_progress - ytd_output, 4) as gap_to_time_progress,
    round(output_target - ytd_output, 4) as gap_to_target,
    remaining_months,
    case when remaining_months > 0 then round(greatest(output_target - ytd_output, 0) / remaining_months, 4) end
        as pace_needed_per_month,
    responsible_leader,
    source_file,
    source_row
from measured
cross join rules
