{#- For int_enterprise_newest: the enterprises whose held row (the newest with data) is in a month the mart
    rewrote since, without a row with data from that month on in the rewrite (a correction dropped them or
    left them no figure). Their newest row is looked up in the whole mart. -#}
{% macro enterprises_dropped_from_rewritten_months(mart) -%}
    select held_row.credit_code from {{ this }} as held_row
    where exists (
        select from {{ mart }} as written
        where
            written.built_at > (select coalesce(max(mart_built_at), '-infinity') from {{ this }})
            and written.year = held_row.year and written.period_month = held_row.period_month
    ) and not exists (
        select from {{ mart }} as written
        where
            written.built_at > (select coalesce(max(mart_built_at), '-infinity') from {{ this }})
            and written.credit_code = held_row.credit_code
            and written.warning_level <> 'no_data'
            and (written.year, written.period_month) >= (held_row.year, held_row.period_month)
    )
{%- endmacro %}

{#- Whether a query returns a row, asked of the warehouse while dbt runs the model (false while it only
    parses, and in an offline lint). -#}
{% macro any_rows(query) -%}
    {%- if execute -%}
        {{ return(run_query('select exists (' ~ query ~ ')').columns[0].values()[0]) }}
    {%- endif -%}
    {{ return(false) }}
{%- endmacro %}
