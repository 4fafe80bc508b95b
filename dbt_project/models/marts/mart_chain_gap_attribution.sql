-- 自动找出缺口: which key enterprises explain a chain's change, per chain and month (重点企业产值月报).
-- Last year's same-period output is derived from the official YTD growth rate, YTD / (1 + g/100), never
-- recomputed from the warehouse's history: the official rate already accounts for enterprises that joined
-- or left the statistics. Without a usable rate (missing, or −100 %, which would divide by zero) there is
-- no base, the change is NULL and base_note says why: such an enterprise is shown, but not counted.
-- An enterprise belongs to the chain it reported that month (it may change chain between months). A chain
-- name matching no catalogue chain or alias keeps chain_code NULL here and is a quality warning (GX suite
-- key_enterprises), never silently dropped.
-- Incremental like mart_enterprise_monitoring (dbt_project.yml; about a million rows a month province-wide): a build
-- recomputes the months with a delivery loaded since the last build, and every month when the chain
-- catalogue's names or aliases changed (catalogue_fingerprint). A change of leaders or of the model itself
-- needs `dbt build --full-refresh --select mart_chain_gap_attribution`.
with
chain_names as (select * from {{ ref('stg_reference__chain_names') }}),

catalogue as (
    select
        -- never NULL, even for an empty catalogue: min() and max() over the mart's rows ignore NULLs
        coalesce(
            md5(string_agg(chain_code || '=' || lookup_name, '|' order by lookup_name, chain_code)), md5('')
        ) as catalogue_fingerprint
    from chain_names
),

reports as (
    {{ enterprise_months_to_build('catalogue_fingerprint', 'catalogue') }}
),

chains as (
    select
        chain_code,
        chain_name
    from {{ ref('industry_chains') }}
),

leaders as ({{ leaders_by_title() }}),

based as (
    select
        chain_names.chain_code,
        reports.chain_name as reported_chain_name,
        reports.year,
        reports.period_month,
        reports.credit_code,
        reports.enterprise_name,
        reports.town,
        reports.leader_title,
        reports.ytd_output_wan,
        reports.ytd_growth_pct,
        case
            when reports.ytd_output_wan is null then 'no_output'
            when reports.ytd_growth_pct is null then 'no_growth_rate'
            when reports.ytd_growth_pct <= -100 then 'growth_minus_100'
        end as base_note,
        reports.source_file,
        reports.source_row,
        reports.load_id,
        -- the group an enterprise counts in: its catalogue chain, whichever alias it reported under
        coalesce(chain_names.chain_code, 'unmatched:' || coalesce(reports.chain_name, '')) as chain_key
    from reports
    left join chain_names on reports.chain_name = chain_names.lookup_name
),

with_base as (
    select
        based.*,
        round(case when based.base_note is null then based.ytd_output_wan / (1 + based.ytd_growth_pct / 100) end, 4)
            as prior_ytd_output_wan
    from based
),

changed as (
    select
        with_base.*,
        with_base.ytd_output_wan - with_base.prior_ytd_output_wan as change_wan
    from with_base
),

-- Chain totals are sums of the rounded figures shown, so the enterprises listed add up to their total.
-- 拖累排名: the declining enterprises of a catalogue chain, largest fall first (1 = drags most).
-- Both windows partition by chain_key first (a catalogue chain's chain_code; only those are ranked), so that
-- one sort of the month's rows serves both: with the rank partitioned by chain_code, a new month of a million
-- rows was sorted twice (once on disk), 12-14 s for this query instead of 10-11 s (24 months × 1,000,000).
totals as (
    select
        changed.*,
        sum(changed.change_wan) over chain_month as chain_change_wan,
        sum(changed.ytd_output_wan) filter (where changed.base_note is null)
            over chain_month
            as chain_ytd_output_with_base_wan,
        sum(changed.prior_ytd_output_wan) over chain_month as chain_prior_ytd_output_wan,
        count(*) over chain_month as key_enterprises,
        count(*) filter (where changed.base_note is not null) over chain_month as key_enterprises_without_base,
        case when changed.chain_code is not null and changed.change_wan < 0 then
                row_number() over (
                    partition by changed.chain_key, changed.year, changed.period_month, changed.change_wan < 0
                    order by changed.change_wan, changed.credit_code
                )
        end as drag_rank
    from changed
    window chain_month as (partition by changed.chain_key, changed.year, changed.period_month)
)

select
    totals.chain_code,
    coalesce(chains.chain_name, totals.reported_chain_name) as chain_name,
    totals.chain_code is not null as chain_matched,
    totals.year,
    totals.period_month,
    totals.credit_code,
    totals.enterprise_name,
    totals.town,
    totals.ytd_output_wan,
    totals.ytd_growth_pct,
    totals.prior_ytd_output_wan,
    totals.change_wan,
    totals.base_note,
    totals.chain_change_wan,
    totals.chain_ytd_output_with_base_wan,
    totals.chain_prior_ytd_output_wan,
    round((totals.chain_ytd_output_with_base_wan / nullif(totals.chain_prior_ytd_output_wan, 0) - 1) * 100, 4)
        as chain_key_enterprise_growth_pct,
    round(totals.change_wan / nullif(totals.chain_change_wan, 0) * 100, 4) as share_of_chain_change_pct,
    totals.key_enterprises,
    totals.key_enterprises_without_base,
    totals.drag_rank,
    coalesce(leaders.leader_code, 'D00') as leader_code,
    totals.leader_title,
    totals.source_file,
    totals.source_row,
    totals.load_id,
    catalogue.catalogue_fingerprint,
    {{ built_at() }} as built_at
from totals
cross join catalogue
left join chains on totals.chain_code = chains.chain_code
left join leaders on totals.leader_title = leaders.leader_title
