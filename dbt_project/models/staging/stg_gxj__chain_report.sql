with source as ({{ active_rows('chain_report') }})

select
    load_id,
    source_file,
    source_row,
    period_year as year,
    period_month,
    {{ normalized_name('industry_category') }} as industry_category,
    {{ normalized_name('chain_name') }} as chain_name,
    chain_leader_firm,
    above_scale_firms,
    month_output_yi,
    ytd_output_yi,
    ytd_growth_pct
from source
