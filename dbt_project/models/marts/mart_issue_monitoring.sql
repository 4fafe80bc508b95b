-- 问题台账: every issue in every weekly issue ledger, overdue when not 已销号 past its deadline (closed: green),
-- routed through its project to the project's 包挂领导 (调度中心 D00 when unknown).
with
issues as (select * from {{ ref('stg_fgj__issue_ledger') }}),

projects as (select * from {{ ref('int_project_ledger_history') }}),

rules as ({{ warning_rule('issue_overdue') }}),

latest_project as (
    select distinct on (issues.issue_code, issues.as_of_date)
        issues.issue_code,
        issues.as_of_date,
        projects.leader_code,
        projects.leader_title,
        projects.project_name
    from issues
    inner join projects on issues.project_code = projects.project_code and issues.as_of_date >= projects.as_of_date
    order by issues.issue_code asc, issues.as_of_date asc, projects.as_of_date desc
),

measured as (
    select
        issues.*,
        -- Days past the deadline of an issue still open (0 before the deadline); null when the status or
        -- the deadline is missing, which is no_data, never "not overdue".
        case
            when issues.status <> '已销号' and issues.due_date is not null  -- greatest() would read null as 0
                then greatest(issues.as_of_date - issues.due_date, 0)
        end as overdue_days,
        coalesce(latest_project.leader_code, 'D00') as leader_code,
        latest_project.leader_title,
        coalesce(issues.project_name, latest_project.project_name) as known_project_name
    from issues
    left join latest_project using (issue_code, as_of_date)
)

select
    issue_code,
    as_of_date,
    extract(year from as_of_date)::integer as year,
    project_code,
    known_project_name as project_name,
    description,
    issue_type,
    responsible_unit,
    responsible_person,
    raised_date,
    due_date,
    status,
    closed_date,
    overdue_days,
    case when status = '已销号' then 'green' else {{ warning_level('overdue_days', 'rules') }} end as warning_level,
    leader_code,
    leader_title,
    source_file,
    source_row
from measured
cross join rules
