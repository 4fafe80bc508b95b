-- The target sheets missing for a year that has data: each gives no_target for that year's measures and one
-- mail to the data team (年度目标未报送) until the target file arrives. Years before the first year with
-- any target (a December report loaded only as last year's base) are not monitored and not listed.
-- Which data needs which sheet: 指标目标 the indicators (新签约/新开工项目数 among them, from the project
-- ledger), 产业链目标 the chain report, 招商目标 the project counts per 产业类别.
with
data_years as (
    {{ years_by_sheet([
        ('指标目标', 'int_indicator_reported_values'),
        ('指标目标', 'int_project_counts'),
        ('产业链目标', 'stg_gxj__chain_report'),
        ('招商目标', 'int_project_counts'),
    ]) }}
),

present as (
    {{ years_by_sheet([
        ('指标目标', 'int_targets__indicators'),
        ('产业链目标', 'int_targets__chains'),
        ('招商目标', 'int_targets__project_counts'),
    ]) }}
),

first_target_year as (
    select min(year) as year from present
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
