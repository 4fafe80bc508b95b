{#- The years each of `sheet_models` (pairs of a target sheet's name and a model with a `year` column) has
    rows in, as (year, sheet): which years have data a sheet's targets judge, or have that sheet. -#}
{% macro years_by_sheet(sheet_models) -%}
    {% for sheet, model in sheet_models %}
        {% if not loop.first %}union{% endif %}
        select distinct
            year,
            '{{ sheet }}'::text as sheet
        from {{ ref(model) }}
    {% endfor %}
{%- endmacro %}
