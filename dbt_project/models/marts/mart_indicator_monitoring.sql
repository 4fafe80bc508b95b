-- 指标监测: every catalogue indicator for every reported month, against its assessment target (考核目标)
-- of that year with the alternative target of the other document beside it. A year without a target for
-- the indicator is no_target (never last year's target, never zero).
with
catalogue as (select * from {{ ref('indicators') }}),

targets as (select * from {{ ref('int_targets__indicators') }}),

rules as ({{ warning_rule('indicator_off_target') }}),

reported as (select * from {{ ref('int_indicator_reported_values') }}),

-- 新签约/新开工 project counts are indicators too, measured on the latest weekly ledger of each month. Their
-- warnings depend on the ledger's data (alert domain `projects`, which a failed ledger check withholds),
-- the other indicators' on their department's report.
{%- set ledger_counts = {'signed_projects': 'signed_count', 'started_projects': 'started_count'} %}
ledger_months as (
    select
        *,
        extract(month from as_of_date)::integer as period_month,
        row_number() over (partition by year, extract(month from as_of_date) order by as_of_date desc) as newest
    from {{ ref('int_project_counts') }}
    where industry_category = '合计'
),

ledger_values as (
    {%- for indicator_code, count_column in ledger_counts.items() %}
        select
            '{{ indicator_code }}'::text as indicator_code,
            year,
            period_month,
            as_of_date,
            {{ count_column }}::numeric as ytd_value
        from ledger_months
        where newest = 1
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

ledger_indicators as (
    {%- for indicator_code in ledger_counts %}
        select '{{ indicator_code }}'::text as indicator_code
        {{ 'union all' if not loop.last }}
    {%- endfor %}
),

periods as (
    select
        year,
        period_month
    from reported
    union
    select
        year,
        period_month
    from ledger_values
),

joined as (
    select
        catalogue.indicator_code,
        catalogue.indicator_name,
        catalogue.unit,
        catalogue.frequency,
        catalogue.target_type,
        catalogue.source_department,
        catalogue.responsible_leader,
        periods.year,
        periods.period_month,
        ledger_values.as_of_date,
        reported.month_value,
        reported.month_growth_pct,
        coalesce(reported.ytd_value, ledger_values.ytd_value) as ytd_value,
        reported.ytd_growth_pct,
        reported.source_file,
        reported.source_row,
        case
            when ledger_values.as_of_date is not null then {{ time_progress_day('ledger_values.as_of_date') }}
            else {{ time_progress_month('periods.period_month') }}
        end as time_progress,
        assessment.target_value,
        assessment.baseline_value,
        assessment.target_source,
        alternative.target_value as alt_target_value,
        alternative.target_source as alt_target_source,
        prior_december.ytd_value as prior_year_total
    from catalogue
    cross join periods
    left join reported
        on catalogue.indicator_code = reported.indicator_code
            and periods.year = reported.year and periods.period_month = reported.period_month
    left join ledger_values
        on catalogue.indicator_code = ledger_values.indicator_code
            and periods.year = ledger_values.year and periods.period_month = ledger_values.period_month
    left join targets as assessment
        on catalogue.indicator_code = assessment.indicator_code and periods.year = assessment.year
            and assessment.is_assessment_target
    left join targets as alternative
        on catalogue.indicator_code = alternative.indicator_code and periods.year = alternative.year
            and not alternative.is_assessment_target
    left join reported as prior_december
        on catalogue.indicator_code = prior_december.indicator_code
            and prior_december.year = periods.year - 1 and prior_december.period_month = 12
),

measured as (
    select
        *,
        case target_type
            when 'growth' then ytd_growth_pct
            when 'level' then coalesce(ytd_value, month_value)
            when 'cumulative' then ytd_value
            when 'stock' then coalesce(month_value, ytd_value)
        end as actual_value,
        12 - period_month as remaining_months
    from joined
),

deviations as (
    select
        measured.*,
        {{ indicator_deviation('target_value') }} as deviation_raw,
        {{ indicator_deviation('alt_target_value') }} as alt_deviation_raw
    from measured
)
,

classified as (
    select
        deviations.*,
        case when deviations.target_value is null then 'no_target'
            else {{ warning_level('deviations.deviation_raw', 'rules') }}
        end as warning_level,
        {{ warning_level('deviations.alt_deviation_raw', 'rules') }} as alt_warning_level
    from deviations
    left join rules on deviations.target_type = rules.target_type
)

select
    indicator_code,
    indicator_name,
    unit,
    frequency,
    target_type,
    year,
    period_month,
    as_of_date,
    actual_value,
    month_value,
    month_growth_pct,
    ytd_value,
    ytd_growth_pct,
    target_value,
    baseline_value,
    target_source,
    alt_target_value,
    alt_target_source,
    round(time_progress * 100, 4) as time_progress_pct,
    round(deviation_raw, 4) as deviation_pp,
    round(alt_deviation_raw, 4) as alt_deviation_pp,
    warning_level,
    alt_warning_level,
    -- 缺口: what is missing against time progress and against the full-year target, in the indicator's unit
    -- (percentage points for growth and level indicators), and the pace needed to still meet the target.
    case
        when target_type = 'cumulative' then round(target_value * time_progress - actual_value, 4)
        when
            target_type = 'stock'
            then round(baseline_value + (target_value - baseline_value) * time_progress - actual_value, 4)
    end as gap_to_time_progress,
    round(target_value - actual_value, 4) as gap_to_target,
    remaining_months,
    case
        when target_type in ('cumulative', 'stock') and remaining_months > 0
            then round(greatest(target_value - actual_value, 0) / remaining_months, 4)
    end as pace_needed_per_month,
    -- Growth needed over the rest of the year, where last year's total is known (its December report):
    -- last year's same-period value is this year's YTD value deflated by the official YTD growth.
    case
        when target_type = 'growth' and remaining_months > 0 and prior_year_total is not null
            and ytd_value is not null and ytd_growth_pct is not null
            and prior_year_total - ytd_value / (1 + ytd_growth_pct / 100) > 0
            then round((
                    (prior_year_total * (1 + target_value / 100) - ytd_value)
                    / (prior_year_total - ytd_value / (1 + ytd_growth_pct / 100)) - 1
                ) * 100, 4)
    end as growth_needed_rest_of_year_pct,
    responsible_leader,
    source_department,
    case
        when indicator_code in (select indicator_code from ledger_indicators) then 'projects'
        else 'indicators/' || source_department
    end as alert_domain,
    source_file,
    source_row
from classified
