-- 重点企业: every key enterprise in every monthly report, warned on a YTD decline.
with
reports as (select * from {{ ref('stg_tjj__enterprise_report') }}),
rules as (select rule_code, target_type, comparison, yellow_threshold, red_threshold from {{ ref('warning_rules') }} where rule_code = 'enterprise_decline'),
leaders as (select * from {{ ref('leaders') }} where role = 'leader')

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
    reports.source_row
from reports
cross join rules
left join leaders on {{ normalized_name('leaders.title') }} = reports.leader_title
