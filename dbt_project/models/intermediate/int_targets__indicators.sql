-- Each year's indicator targets: the delivered 指标目标 of the year's target file, else (a warehouse that
-- never received one for that year) the bootstrap seed `targets`. Target values in the catalogue's unit
-- (growth and share targets are %); a unit that cannot be converted leaves the target empty, never guessed.
-- target_source names what the measure is judged against: the file and row, or the seed, and the document.
with
catalogue as (select * from {{ ref('indicators') }}),

delivered as (
    select
        targets.year,
        names.indicator_code,
        targets.is_assessment_target,
        targets.target_value * factors.factor as target_value,
        targets.baseline_value * factors.factor as baseline_value,
        {{ delivered_target_source('targets') }} as target_source,
        'delivered'::text as target_origin,
        targets.source_row
    from {{ ref('stg_fgj__indicator_targets') }} as targets
    inner join {{ ref('stg_reference__indicator_names') }} as names on targets.indicator_name = names.lookup_name
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
)

-- One assessed and one alternative target per indicator and year.
{{ targets_in_force(
    'delivered', 'targets', ['year', 'indicator_code', 'is_assessment_target'], ['target_value', 'baseline_value']
) }}
