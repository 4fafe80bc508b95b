-- Every weekly ledger row with the date since which the project has not moved: a project moves when
-- its 本年累计完成投资, 建设阶段 or 形象进度 changes between consecutive ledgers.
with
leaders as ({{ leaders_by_title() }}),

ledger as (
    select
        *,
        md5(row(ytd_investment_wan, stage, progress)::text) as state_signature
    from {{ ref('stg_fgj__project_ledger') }}
),

changes as (
    select
        *,
        case
            when (
                lag(state_signature) over (partition by project_code order by as_of_date)
                is distinct from state_signature
            )
                then 1
            else 0
        end as moved
    from ledger
),

runs as (
    select
        *,
        sum(moved) over (partition by project_code order by as_of_date rows unbounded preceding) as run_number
    from changes
)

select
    runs.*,
    min(as_of_date) over (partition by project_code, run_number) as unchanged_since,
    coalesce(leaders.leader_code, 'D00') as leader_code,
    leaders.leader_code is null as leader_unknown
from runs
left join leaders on runs.leader_title = leaders.leader_title
