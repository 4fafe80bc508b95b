-- Each year's 招商目标 per 产业类别 (新签约/新开工): the delivered sheet of the year's target file, else the
-- bootstrap seed `project_targets`. The total (合计) is the sum over the categories.
with
files as (select * from {{ ref('stg_fgj__target_files') }}),

delivered as (
    select
        year,
        industry_category,
        signed_target,
        started_target,
        source_file || ' 第' || source_row || '行' || coalesce('（' || target_document || '）', '') as target_source,
        'delivered'::text as target_origin,
        source_row
    from {{ ref('stg_fgj__project_count_targets') }}
),

seeded as (
    select
        year,
        industry_category,
        signed_target,
        started_target,
        'seeds/project_targets.csv' || coalesce('（' || target_source || '）', '') as target_source,
        'seed'::text as target_origin,
        0 as source_row
    from {{ ref('project_targets') }}
    where year not in (select year from files)
),

ranked as (
    select
        unioned.*,
        row_number() over (partition by unioned.year, unioned.industry_category order by unioned.source_row) as position
    from (
        select * from delivered
        union all
        select * from seeded
    ) as unioned
),

categories as (
    select
        year,
        industry_category,
        signed_target,
        started_target,
        target_source,
        target_origin
    from ranked
    where position = 1
)

select * from categories
union all
select
    year,
    '合计',
    sum(signed_target),
    sum(started_target),
    -- every category comes from the same file or seed in a year: its name without the row
    min(regexp_replace(target_source, ' 第[0-9]+行', '')),
    min(target_origin)
from categories
group by year
