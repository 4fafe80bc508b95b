with source as ({{ active_rows('enterprise_report') }})

select
    load_id,
    source_file,
    source_row,
    period_year as year,
    period_month,
    trim(credit_code) as credit_code,
    enterprise_name,
    {{ normalized_name('chain_name') }} as chain_name,
    town,
    month_output_wan,
    ytd_output_wan,
    ytd_growth_pct,
    {{ normalized_name('leader_title') }} as leader_title
from source
