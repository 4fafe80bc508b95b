-- 重点企业: every key enterprise in every monthly report, warned on a YTD decline.
-- Incremental (configured in dbt_project.yml): a province-wide deployment adds about a million rows a month,
-- so a build recomputes only the months that changed — a month with a delivery loaded since the last build
-- (new or corrected), or a month classified under other thresholds than today's (rule_fingerprint). A change
-- of leaders or of the model itself needs `dbt build --full-refresh --select mart_enterprise_monitoring`.
with
rules as ({{ warning_rule('enterprise_decline') }}),

reports as (
    {{ enterprise_months_to_build('rule_fingerprint', 'rules') }}
),

leaders as ({{ leaders_by_title() }})

select
    reports.credit_code,
    reports.enterprise_name,
    reports.year,
    reports.period_month,
    reports.chain_name,
    reports.town,
    reports.month_output_wan,
    reports.ytd_output_wan,
    reports.ytd_growth_pct,
    {{ warning_level('reports.ytd_growth_pct', 'rules') }} as warning_level,
    coalesce(leaders.leader_code, 'D00') as leader_code,
    reports.leader_title,
    leaders.leader_code is null as leader_unknown,
    reports.source_file,
    reports.source_row,
    reports.load_id,
    rules.rule_fingerprint,
    {{ built_at() }} as built_at
from reports
cross join rules
left join leaders on reports.leader_title = leaders.leader_title
