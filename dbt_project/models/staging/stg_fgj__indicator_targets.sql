-- 指标目标 of the current 年度目标任务表 of each year (a re-delivery supersedes the earlier file).
with source as ({{ active_rows('indicator_targets') }})

select
    load_id,
    source_file,
    source_row,
    period_year as year,
    {{ normalized_name('indicator_name') }} as indicator_name,
    nullif(trim(unit), '') as unit,
    target_value,
    baseline_value,
    -- 是否考核目标: only an explicit 否 makes a row the alternative target; a file without the column has
    -- one target per indicator, which is the assessed one.
    coalesce(trim(assessment), '') not in ('否', '非考核', 'N', 'n', 'false', '0') as is_assessment_target,
    nullif(trim(target_source), '') as target_document
from source
