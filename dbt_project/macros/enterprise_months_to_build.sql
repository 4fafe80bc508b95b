{#
    The 重点企业产值月报 rows a build of an incremental enterprise mart must (re)compute: every row on a full
    build; on an incremental one, the months with a delivery loaded since the mart's newest load (new or
    corrected: a correction supersedes the month's earlier delivery, so all the month's current rows carry
    the newer load_id), and the months the mart computed under another fingerprint of what it depends on
    (thresholds, the chain catalogue) than today's. `fingerprint_cte` is a one-row CTE of the calling model
    with the column `fingerprint_column` (never NULL), which the mart also stores on every row.

    Written so that no step reads the history (24 million rows at two years of a province): the months are
    chosen among the deliveries (stg_tjj__enterprise_report_deliveries, over raw.load_audit) and by the
    mart's indexes on load_id and on the fingerprint (dbt_project.yml): the mart's rows are compared with
    today's fingerprint only when its smallest or largest one differs, a condition Postgres checks once
    before the scan. The rows are read by their deliveries' load_id, from the smallest one on, which the raw
    rows' BRIN index on load_id answers (a filter on the staging view's year and month would read every raw
    row: those columns come from load_audit by a join).
#}
{% macro enterprise_months_to_build(fingerprint_column, fingerprint_cte) -%}
    {#- refs outside the condition, so that dbt records them when it parses (is_incremental() is false then) -#}
    {%- set reports = ref('stg_tjj__enterprise_report') -%}
    {%- set deliveries = ref('stg_tjj__enterprise_report_deliveries') -%}
    {% if is_incremental() %}
    with loads as (
        select load_id from {{ deliveries }}
        where (year, period_month) in (
            select year, period_month from {{ deliveries }}
            where load_id > (select coalesce(max(load_id), 0) from {{ this }})
            union
            select year, period_month from {{ this }}
            where (
                (select min({{ fingerprint_column }}) from {{ this }})
                is distinct from (select {{ fingerprint_column }} from {{ fingerprint_cte }})
                or (select max({{ fingerprint_column }}) from {{ this }})
                is distinct from (select {{ fingerprint_column }} from {{ fingerprint_cte }})
            ) and {{ fingerprint_column }} is distinct from (select {{ fingerprint_column }} from {{ fingerprint_cte }})
        )
    )
    select * from {{ reports }}
    where load_id >= (select min(load_id) from loads) and load_id in (select load_id from loads)
    {% else %}
    select * from {{ reports }}
    {% endif %}
{%- endmacro %}
