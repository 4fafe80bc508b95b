{#-
    The data tests of the incremental enterprise marts check the rows the newest build wrote, not every month
    (24 million rows at two years of a province): a test configured with `where: __newest_build__` reads
    `built_at = (select max(built_at) from <the mart>)`, which the mart's index on built_at answers. A build
    replaces whole months, the (credit_code, year, period_month) key includes the month, and every row it
    writes carries the build's start (`built_at`), so the newest build's rows are every month it wrote: a
    check per month is complete for them, a full build or --full-refresh tests every row, and `dbt test`
    alone retests what the last build wrote. dbt's `where` cannot name the tested relation itself, so the
    placeholder is replaced here (dbt documents overriding get_where_subquery for such placeholders).
-#}
{% macro get_where_subquery(relation) -%}
    {%- set where = config.get('where') or '' -%}
    {%- if '__newest_build__' in where -%}
        {%- set newest = 'built_at = (select max(built_at) from ' ~ relation ~ ')' -%}
        {%- set where = where | replace('__newest_build__', newest) -%}
        {%- do return('(select * from ' ~ relation ~ ' where ' ~ where ~ ') dbt_subquery') -%}
    {%- endif -%}
    {%- do return(dbt.default__get_where_subquery(relation)) -%}
{%- endmacro %}

{#- The start of the dbt invocation that writes the row (dbt's run_started_at, UTC): what `__newest_build__`
    selects on. -#}
{% macro built_at() -%}
    '{{ run_started_at }}'::timestamptz
{%- endmacro %}
