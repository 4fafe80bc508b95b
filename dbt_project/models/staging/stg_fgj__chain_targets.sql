-- 产业链目标 of the current 年度目标任务表 of each year; output targets in 亿元 (converted at load).
with source as ({{ active_rows('chain_targets') }})

select
    load_id,
    source_file,
    source_row,
    period_year as year,
    {{ normalized_name('industry_category') }} as industry_category,
    {{ normalized_name('chain_name') }} as chain_name,
    output_target_yi,
    nullif(trim(target_source), '') as target_document
from source
