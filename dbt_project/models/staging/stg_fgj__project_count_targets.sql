-- 招商目标 of the current 年度目标任务表 of each year, per 产业类别 (the 合计 row is not loaded).
with source as ({{ active_rows('project_count_targets') }})

select
    load_id,
    source_file,
    source_row,
    period_year as year,
    {{ normalized_name('industry_category') }} as industry_category,
    signed_target,
    started_target,
    nullif(trim(target_source), '') as target_document
from source
