-- Each key enterprise's newest row with data (a warning level other than no_data) in
-- mart_enterprise_monitoring: the enterprise warnings of mart_current_warnings, which follow an enterprise
-- across months. Reading every month of the mart for it (24 million rows at two years of a province) would
-- cost every build minutes, so this model is incremental, one row per credit_code (a full build reads every
-- row). A build reads the rows the mart wrote since (`built_at`, whole months) and keeps, per enterprise met
-- there, the newest of its rows with data there and the row it holds from a month not rewritten. An
-- enterprise whose held month was rewritten without a row with data from that month on (a correction that
-- dropped it) is looked up in the whole mart, only when there is such an enterprise; with no row with data
-- left, its held row stays marked no_data, which carries no warning.
-- No nested loops (the pre-hook, for this model's transaction only): Postgres cannot estimate how many held
-- enterprises fall outside the rewritten months (it guessed 1 of a million at 24 months of history) and then
-- compared every held enterprise with every written row in a nested loop, minutes instead of a hash join's
-- seconds.
{{ config(
    materialized='incremental',
    incremental_strategy='delete+insert',
    unique_key='credit_code',
    on_schema_change='fail',
    indexes=[{'columns': ['credit_code']}, {'columns': ['mart_built_at']}],
    pre_hook='set local enable_nestloop = off',
) }}
{%- set dropped -%}
    {{ enterprises_dropped_from_rewritten_months(ref('mart_enterprise_monitoring')) }}
{%- endset %}

with
-- not materialized: a full build reads it twice, and Postgres would otherwise copy all of it first
mart as not materialized (select * from {{ ref('mart_enterprise_monitoring') }}),

{% if is_incremental() %}
    written as (
        select * from mart
        where built_at > (select coalesce(max(mart_built_at), '-infinity') from {{ this }})
    ),

    written_months as (
        select distinct
            written.year,
            written.period_month
        from written
    ),

    held as (select * from {{ this }}),

    candidates as (
        select
            credit_code,
            enterprise_name,
            year,
            period_month,
            warning_level,
            leader_code,
            ytd_growth_pct,
            source_file
        from written
        where warning_level <> 'no_data'
        union all
        select
            held.credit_code,
            held.enterprise_name,
            held.year,
            held.period_month,
            held.warning_level,
            held.leader_code,
            held.ytd_growth_pct,
            held.source_file
        from held
        where
            held.credit_code in (select written.credit_code from written)
            and not exists (
                select from written_months
                where written_months.year = held.year and written_months.period_month = held.period_month
            )
        {% if any_rows(dropped) %}
            union all
            select
                mart.credit_code,
                mart.enterprise_name,
                mart.year,
                mart.period_month,
                mart.warning_level,
                mart.leader_code,
                mart.ytd_growth_pct,
                mart.source_file
            from mart
            where mart.warning_level <> 'no_data' and mart.credit_code in ({{ dropped }})
            union all
            select
                held.credit_code,
                held.enterprise_name,
                held.year,
                held.period_month,
                'no_data' as warning_level,
                held.leader_code,
                held.ytd_growth_pct,
                held.source_file
            from held
            where held.credit_code in ({{ dropped }})
        {% endif %}
    )

    select distinct on (candidates.credit_code)
        candidates.*,
        (select max(written.built_at) from written) as mart_built_at
    from candidates
    order by
        candidates.credit_code asc,
        candidates.warning_level = 'no_data' asc,
        candidates.year desc,
        candidates.period_month desc
{% else %}
    newest as (
        select distinct on (mart.credit_code)
            mart.credit_code,
            mart.enterprise_name,
            mart.year,
            mart.period_month,
            mart.warning_level,
            mart.leader_code,
            mart.ytd_growth_pct,
            mart.source_file
        from mart
        where mart.warning_level <> 'no_data'
        order by mart.credit_code asc, mart.year desc, mart.period_month desc
    )

    select
        newest.*,
        (select max(mart.built_at) from mart) as mart_built_at
    from newest
{% endif %}
