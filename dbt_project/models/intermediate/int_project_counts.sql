-- New signings (签约日期 in the year) and new starts (实际开工日期 in the year, whatever year the project
-- was signed) in each weekly ledger, per 产业类别 and in total (合计).
with ledger as (select * from {{ ref('stg_fgj__project_ledger') }})

select
    as_of_date,
    extract(year from as_of_date)::integer as year,
    case when grouping(industry_category) = 1 then '合计' else industry_category end as industry_category,
    count(*) filter (where extract(year from signed_date) = extract(year from as_of_date)) as signed_count,
    count(*) filter (where extract(year from actual_start_date) = extract(year from as_of_date)) as started_count
from ledger
group by grouping sets ((as_of_date, industry_category), (as_of_date))
