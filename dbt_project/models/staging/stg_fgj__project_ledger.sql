with source as ({{ active_rows('project_ledger') }})

select
    load_id,
    source_file,
    source_row,
    as_of_date,
    trim(project_code) as project_code,
    project_name,
    {{ normalized_name('project_library') }} as project_library,
    {{ normalized_name('industry_category') }} as industry_category,
    {{ normalized_name('chain_name') }} as chain_name,
    total_investment_wan,
    annual_plan_investment_wan,
    ytd_investment_wan,
    signed_date,
    planned_start_date,
    actual_start_date,
    planned_operation_date,
    actual_operation_date,
    {{ normalized_name('stage') }} as stage,
    progress,
    {{ normalized_name('leader_title') }} as leader_title,
    responsible_unit,
    town,
    problems,
    updated_date
from source
