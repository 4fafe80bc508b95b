-- The 年度目标任务表 in force for each year: the newest delivery (earlier ones are superseded at load and
-- stay in raw.load_audit). A year listed here takes its targets from this file only, never from the
-- seeds: a sheet the file lacks leaves that year's measures without a target (no_target).
with source as (select * from {{ source('raw', 'load_audit') }})

select
    period_year as year,
    load_id,
    source_file,
    received_at
from source
where status = 'loaded' and report_type = 'annual_targets' and period_year is not null
