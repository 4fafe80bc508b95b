-- Each year's 招商目标 per 产业类别 (新签约/新开工): the delivered sheet of the year's target file, else the
-- bootstrap seed `project_targets`. The total (合计) is the sum over the categories.
with
delivered as (
    select
        targets.year,
        targets.industry_category,
        targets.signed_target,
        targets.started_target,
        {{ delivered_target_source('targets') }} as target_source,
        'delivered'::text as target_origin,
        targets.source_row
    from {{ ref('stg_fgj__project_count_targets') }} as targets
),

categories as (
    {{ targets_in_force(
        'delivered', 'project_targets', ['year', 'industry_category'], ['signed_target', 'started_target']
    ) }}
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
