with
source as ({{ active_rows('department_indicator_report') }}),

audit as (
    select
        load_id,
        department_code
    from {{ source('raw', 'load_audit') }}
)

select
    source.load_id,
    source.source_file,
    source.source_row,
    audit.department_code,
    source.period_year as year,
    source.period_month,
    {{ normalized_name('source.indicator_name') }} as indicator_name,
    source.is_sub_item,
    nullif(trim(source.unit), '') as unit,
    source.month_value,
    null::numeric as month_growth_pct,
    source.ytd_value,
    source.ytd_growth_pct,
    source.reporting_unit,
    source.remarks
from source
inner join audit using (load_id)
