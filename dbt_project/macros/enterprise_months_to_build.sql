{#
    The 重点企业产值月报 rows a build of an incremental enterprise mart must (re)compute: every row on a full
    build; on an incremental one, the months with a delivery loaded since the mart's newest load (new or
    corrected: a correction supersedes the month's earlier delivery, so all the month's current rows carry
    the newer load_id), and the months the mart computed under another fingerprint of what it depends on
    (thresholds, the chain catalogue) than today's. `fingerprint_cte` is a one-row CTE of the calling model
    with the column `fingerprint_column`, which the mart also stores on every row.
#}
{% macro enterprise_months_to_build(fingerprint_column, fingerprint_cte) -%}
    select * from {{ ref('stg_tjj__enterprise_report') }}
    {% if is_incremental() %}
    where (year, period_month) in (
        select year, period_month from {{ ref('stg_tjj__enterprise_report') }}
        where load_id > (select coalesce(max(load_id), 0) from {{ this }})
        union
        select year, period_month from {{ this }}
        where {{ fingerprint_column }} is distinct from (select {{ fingerprint_column }} from {{ fingerprint_cte }})
    )
    {% endif %}
{%- endmacro %}
