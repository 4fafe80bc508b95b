with source as ({{ active_rows('tjj_indicator_report') }})

select
    load_id,
    source_file,
    source_row,
    'tjj'::text as department_code,
    period_year as year,
    period_month,
    {{ normalized_name('indicator_name') }} as indicator_name,
    is_sub_item,
    nullif(trim(unit), '') as unit,
    month_value,
    month_growth_pct,
    ytd_value,
    ytd_growth_pct
from source
