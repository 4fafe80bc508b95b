-- 全年预计: where the year will end for cumulative and stock indicators and for chains, per month reported.
-- It informs and never warns: the level stays the 时序进度 rule of the monitoring marts.
--   at the current pace:   cumulative  YTD / tp;   stock  baseline + (value − baseline) / tp
--   with last year's seasonal profile (only where the warehouse holds last year's same month and December):
--                          cumulative  YTD × LY(Dec) / LY(same month)   (the share of the year last year had
--                                      reached by this month);
--                          stock       value + (LY(Dec) − LY(same month))   (the rest of the year adds what it
--                                      added last year)
-- projected_year_end prefers the seasonal profile and says which basis it used. Figures and targets are
-- the monitoring marts' own, so the projection always sits beside the gap it explains.
-- The current rows of both kinds in one shape (the final select puts the columns in the mart's order).
with
indicators as (
    select
        'indicator'::text as entity_type,
        indicator_code as entity_code,
        indicator_name as entity_name,
        year,
        period_month,
        as_of_date,
        unit,
        target_type,
        actual_value,
        target_value,
        baseline_value,
        time_progress_pct / 100 as time_progress
    from {{ ref('mart_indicator_monitoring') }}
    where target_type in ('cumulative', 'stock')
),

indicator_history as (
    select
        indicator_code as entity_code,
        year,
        period_month,
        case when catalogue.target_type = 'stock' then coalesce(month_value, ytd_value) else ytd_value end as value
    from {{ ref('int_indicator_reported_values') }}
    inner join {{ ref('indicators') }} as catalogue using (indicator_code)
),

chains as (
    select
        'industry_chain'::text as entity_type,
        chain_code as entity_code,
        chain_name as entity_name,
        year,
        period_month,
        null::date as as_of_date,
        '亿元'::text as unit,
        'cumulative'::text as target_type,
        ytd_output as actual_value,
        output_target as target_value,
        null::numeric as baseline_value,
        time_progress_pct / 100 as time_progress
    from {{ ref('mart_industry_chain_monitoring') }}
),

chain_history as (
    select
        names.chain_code as entity_code,
        report.year,
        report.period_month,
        report.ytd_output_yi as value
    from {{ ref('stg_gxj__chain_report') }} as report
    inner join {{ ref('stg_reference__chain_names') }} as names on report.chain_name = names.lookup_name
),

history as (
    select
        'indicator'::text as entity_type,
        *
    from indicator_history
    union all
    select
        'industry_chain',
        *
    from chain_history
),

current_rows as (
    select * from indicators
    union all
    select * from chains
),

projected as (
    select
        current_rows.*,
        last_year_month.value as last_year_same_month,
        last_year_end.value as last_year_december,
        case
            when current_rows.actual_value is null or current_rows.time_progress is null
                or current_rows.time_progress <= 0 then null
            when current_rows.target_type = 'cumulative' then current_rows.actual_value / current_rows.time_progress
            when current_rows.target_type = 'stock' then current_rows.baseline_value
                + (current_rows.actual_value - current_rows.baseline_value) / current_rows.time_progress
        end as current_pace_raw,
        case
            -- a weekly ledger's date is not a month of last year's monthly history
            when current_rows.actual_value is null or current_rows.as_of_date is not null then null
            when current_rows.period_month = 12 then current_rows.actual_value
            when current_rows.target_type = 'cumulative' and last_year_month.value > 0
                then
                    current_rows.actual_value * last_year_end.value / last_year_month.value
            when current_rows.target_type = 'stock' then
                current_rows.actual_value + (last_year_end.value - last_year_month.value)
        end as seasonal_raw
    from current_rows
    left join history as last_year_month
        on current_rows.entity_type = last_year_month.entity_type
            and current_rows.entity_code = last_year_month.entity_code
            and last_year_month.year = current_rows.year - 1
            and current_rows.period_month = last_year_month.period_month
    left join history as last_year_end
        on current_rows.entity_type = last_year_end.entity_type
            and current_rows.entity_code = last_year_end.entity_code
            and last_year_end.year = current_rows.year - 1
            and last_year_end.period_month = 12
)

select
    entity_type,
    entity_code,
    entity_name,
    unit,
    target_type,
    year,
    period_month,
    as_of_date,
    actual_value,
    target_value,
    baseline_value,
    round(time_progress * 100, 4) as time_progress_pct,
    round(current_pace_raw, 4) as projected_at_current_pace,
    last_year_same_month,
    last_year_december,
    round(seasonal_raw, 4) as projected_with_last_year_profile,
    round(coalesce(seasonal_raw, current_pace_raw), 4) as projected_year_end,
    case
        when seasonal_raw is not null then 'last_year_profile'
        when current_pace_raw is not null then 'current_pace'
    end as projection_basis,
    round(target_value - coalesce(seasonal_raw, current_pace_raw), 4) as projected_shortfall
from projected
