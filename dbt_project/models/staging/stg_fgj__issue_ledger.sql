with source as ({{ active_rows('issue_ledger') }})

select
    load_id,
    source_file,
    source_row,
    as_of_date,
    trim(issue_code) as issue_code,
    trim(project_code) as project_code,
    project_name,
    description,
    issue_type,
    responsible_unit,
    responsible_person,
    raised_date,
    due_date,
    {{ normalized_name('status') }} as status,
    closed_date
from source
