-- One reported value per indicator and month, in the catalogue's unit.
-- 统计局's monthly report and the departments' 报送表 are read alike; if two departments report the
-- same indicator, the catalogue's source department wins. A unit that cannot be converted to the
-- catalogue's leaves the absolute values empty (never guessed); growth rates are unit-free.
with
reported as (
    {%- for report in ['stg_tjj__indicator_report', 'stg_departments__indicator_report'] %}
        select
            load_id,
            source_file,
            source_row,
            department_code,
            year,
            period_month,
            indicator_name,
            unit,
            month_value,
            month_growth_pct,
            ytd_value,
            ytd_growth_pct
        from {{ ref(report) }}
        where not is_sub_item
        {%- if not loop.last %}
            union all
        {%- endif %}
    {%- endfor %}
),

mapped as (
    select
        names.indicator_code,
        catalogue.unit as catalogue_unit,
        catalogue.source_department,
        reported.*,
        case
            when reported.unit is null or reported.unit = catalogue.unit then 1::numeric
            else conversions.factor
        end as unit_factor
    from reported
    inner join {{ ref('stg_reference__indicator_names') }} as names on reported.indicator_name = names.lookup_name
    inner join {{ ref('indicators') }} as catalogue on names.indicator_code = catalogue.indicator_code
    left join {{ ref('unit_conversions') }} as conversions
        on reported.unit = conversions.from_unit and catalogue.unit = conversions.to_unit
),

ranked as (
    select
        mapped.*,
        row_number() over (
            partition by mapped.indicator_code, mapped.year, mapped.period_month
            order by (mapped.department_code = mapped.source_department) desc, mapped.load_id desc
        ) as preference
    from mapped
)

select
    indicator_code,
    year,
    period_month,
    department_code,
    load_id,
    source_file,
    source_row,
    unit as reported_unit,
    catalogue_unit as unit,
    unit_factor is not null as unit_convertible,
    month_value * unit_factor as month_value,
    month_growth_pct,
    ytd_value * unit_factor as ytd_value,
    ytd_growth_pct
from ranked
where preference = 1
