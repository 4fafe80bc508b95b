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

{#- Where a delivered target comes from, as a leader reads it: the file, the row and the document that set it. -#}
{% macro delivered_target_source(alias) -%}
    {{ alias }}.source_file || ' 第' || {{ alias }}.source_row || '行'
    || coalesce('（' || {{ alias }}.target_document || '）', '')
{%- endmacro %}

{#- Each year's targets in force: the delivered rows of the year's 年度目标任务表 (the calling model's CTE
    `delivered`, with the columns key_columns, value_columns, target_source, target_origin, source_row),
    else, for a year without a target file, the bootstrap seed `seed` (rows matching `seed_where`). A file
    listing a key twice is reported by the quality gate; its first row counts. -#}
{% macro targets_in_force(delivered, seed, key_columns, value_columns, seed_where='true') -%}
    select
        {{ (key_columns + value_columns) | join(',\n        ') }},
        target_source,
        target_origin
    from (
        select
            unioned.*,
            row_number() over (partition by {{ key_columns | join(', ') }} order by unioned.source_row) as position
        from (
            select * from {{ delivered }}
            union all
            select
                {{ (key_columns + value_columns) | join(',\n                ') }},
                'seeds/{{ seed }}.csv' || coalesce('（' || target_source || '）', '') as target_source,
                'seed'::text as target_origin,
                0 as source_row
            from {{ ref(seed) }}
            where year not in (select files.year from {{ ref('stg_fgj__target_files') }} as files)
                and {{ seed_where }}
        ) as unioned
    ) as ranked
    where position = 1
{%- endmacro %}
