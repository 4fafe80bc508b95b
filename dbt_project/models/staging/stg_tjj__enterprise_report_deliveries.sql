-- The current deliveries of the 重点企业产值月报, one row per file: what the incremental enterprise marts
-- choose the months to rebuild by (macros/enterprise_months_to_build.sql), without reading the rows.
with source as (select * from {{ source('raw', 'load_audit') }})

select
    load_id,
    period_year as year,
    period_month
from source
where status = 'loaded' and report_type = 'key_enterprises'
