-- The target sheets missing for a year that has data: each gives no_target for that year's measures and one
-- mail to the data team (年度目标未报送) until the target file arrives. Years before the first year with
-- any target (a December report loaded only as last year's base) are not monitored and not listed.
with
first_target_year as (
    select min(year) as year from (
        select year from {{ ref('int_targets__indicators') }}
        union all
        select year from {{ ref('int_targets__chains') }}
        union all
        select year from {{ ref('int_targets__project_counts') }}
    ) as years
),

data_years as (
    select distinct
        year,
        '指标目标'::text as sheet
    from {{ ref('int_indicator_reported_values') }}
    union
    select distinct
        year,
        '指标目标'
    from {{ ref('int_project_counts') }}
    union
    select distinct
        year,
        '产业链目标'
    from {{ ref('stg_gxj__chain_report') }}
    union
    select distinct
        year,
        '招商目标'
    from {{ ref('int_project_counts') }}
),

present as (
    select distinct
        year,
        '指标目标'::text as sheet
    from {{ ref('int_targets__indicators') }}
    union
    select distinct
        year,
        '产业链目标'
    from {{ ref('int_targets__chains') }}
    union
    select distinct
        year,
        '招商目标'
    from {{ ref('int_targets__project_counts') }}
)

select
    data_years.year,
    data_years.sheet,
    files.source_file as target_file
from data_years
cross join first_target_year
left join {{ ref('stg_fgj__target_files') }} as files on data_years.year = files.year
where data_years.year >= first_target_year.year
    and not exists (
        select 1 from present
        where present.year = data_years.year and present.sheet = data_years.sheet
    )
