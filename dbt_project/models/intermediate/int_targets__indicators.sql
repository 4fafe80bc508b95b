-- Each year's indicator targets: the delivered 指标目标 of the year's target file, else (a warehouse that
-- never received one for that year) the bootstrap seed `targets`. Target values in the catalogue's unit
-- (growth and share targets are %); a unit that cannot be converted leaves the target empty, never guessed.
-- target_source names what the measure is judged against: the file and row, or the seed, and the document.
with
files as (select * from {{ ref('stg_fgj__target_files') }}),

catalogue as (select * from {{ ref('indicators') }}),

delivered as (
    select
        targets.year,
        names.indicator_code,
        targets.is_assessment_target,
        targets.target_value * factors.factor as target_value,
        targets.baseline_value * factors.factor as baseline_value,
        targets.source_file || ' 第' || targets.source_row || '行'
        || coalesce('（' || targets.target_document || '）', '') as target_source,
        'delivered'::text as target_origin,
        targets.source_row
    from {{ ref('stg_fgj__indicator_targets') }} as targets
    inner join {{ ref('int_indicator_names') }} as names on targets.indicator_name = names.lookup_name
    inner join catalogue on names.indicator_code = catalogue.indicator_code
    cross join lateral (  -- noqa: ST05
        select case
            when targets.unit is null or targets.unit = catalogue.unit then 1::numeric
            when targets.unit = '%' and catalogue.target_type in ('growth', 'level') then 1::numeric
            else (  -- noqa: ST05
                select conversions.factor from {{ ref('unit_conversions') }} as conversions
                where conversions.from_unit = targets.unit and conversions.to_unit = catalogue.unit
            )
        end as factor
    ) as factors
),

seeded as (
    select
        year,
        indicator_code,
        is_assessment_target,
        target_value,
        baseline_value,
        'seeds/targets.csv' || coalesce('（' || target_source || '）', '') as target_source,
        'seed'::text as target_origin,
        0 as source_row
    from {{ ref('targets') }}
    where year not in (select year from files)
),

unioned as (
    select * from delivered
    union all
    select * from seeded
),

-- One assessed and one alternative target per indicator and year; a file listing one twice is reported by
-- the quality gate, and the first row counts.
ranked as (
    select
        unioned.*,
        row_number()
            over (
                partition by unioned.year, unioned.indicator_code, unioned.is_assessment_target
                order by unioned.source_row
            )
            as position
    from unioned
)

select
    year,
    indicator_code,
    is_assessment_target,
    target_value,
    baseline_value,
    target_source,
    target_origin
from ranked
where position = 1
