{#- One branch of mart_current_warnings: the rows of `relation` (filtered by `where`) in the mart's one shape.
    Every column is named by the caller as an SQL expression over `relation` (or left empty: a rule without a
    target has no target, deviation, gap or pace), and cast here, so that the union of the branches cannot
    shift a column or change its type. `rule_code` and `entity_type` are constants, quoted here. Defaults: a
    monitoring mart's `warning_level` without its no_data rows, and a monthly report's period (the month's
    last day, labelled 2025年1-9月). -#}
{% macro current_warning(
    rule_code, entity_type, relation, entity_code, entity_name, domain, leader_code, measure_value, measure_unit,
    where="warning_level <> 'no_data'", level='warning_level', period_end=none,
    period_label="year || '年1-' || period_month || '月'", target_value='null', deviation_pp='null',
    gap_to_time_progress='null', gap_to_target='null', pace_needed_per_month='null',
    growth_needed_rest_of_year_pct='null', source_file='source_file', target_source='null'
) -%}
    select
        '{{ rule_code }}'::text as rule_code,
        '{{ entity_type }}'::text as entity_type,
        ({{ entity_code }})::text as entity_code,
        ({{ entity_name }})::text as entity_name,
        ({{ domain }})::text as domain,
        year::integer as year,
        ({{ period_end or month_end('year', 'period_month') }})::date as period_end,
        ({{ period_label }})::text as period_label,
        ({{ level }})::text as level,
        ({{ leader_code }})::text as leader_code,
        ({{ measure_value }})::numeric as measure_value,
        ({{ target_value }})::numeric as target_value,
        ({{ deviation_pp }})::numeric as deviation_pp,
        ({{ measure_unit }})::text as measure_unit,
        ({{ gap_to_time_progress }})::numeric as gap_to_time_progress,
        ({{ gap_to_target }})::numeric as gap_to_target,
        ({{ pace_needed_per_month }})::numeric as pace_needed_per_month,
        ({{ growth_needed_rest_of_year_pct }})::numeric as growth_needed_rest_of_year_pct,
        ({{ source_file }})::text as source_file,
        ({{ target_source }})::text as target_source
    from {{ relation }}
    where {{ where }}
{%- endmacro %}

{#- A project rule's branch: every project of the newest ledger (a project no longer listed is no longer
    followed, and alerting closes its warnings) where the rule has a measure; a rule that no longer applies
    is green (`applicable_or_green`). `newest_ledger` is the calling model's CTE of those project codes. -#}
{% macro project_warning(
    rule_code, level, measure_value, measure_unit, newest_ledger, target_value='null', gap_to_time_progress='null',
    gap_to_target='null'
) -%}
    {{ current_warning(
        rule_code=rule_code,
        entity_type='project',
        relation=ref('mart_project_progress'),
        where=level ~ " is distinct from 'no_data' and project_code in (select project_code from " ~ newest_ledger ~ ")",
        entity_code='project_code',
        entity_name='project_name',
        domain="'projects'",
        period_end='as_of_date',
        period_label='as_of_date::text',
        level=applicable_or_green(level),
        leader_code='leader_code',
        measure_value=measure_value,
        measure_unit=measure_unit,
        target_value=target_value,
        gap_to_time_progress=gap_to_time_progress,
        gap_to_target=gap_to_target,
    ) }}
{%- endmacro %}

{#- A project-count branch (新签约 or 新开工 per 产业类别), `kind` being the mart_project_targets column prefix
    (`signed`, `started`): routed to the leader responsible for the matching indicator in the catalogue
    (`indicator_code`, e.g. signed_projects), whose total (合计) it is; the total itself is that indicator's
    warning already, so it is left out here (a second warning would double the mail). `catalogue` is the
    calling model's import CTE of the indicators seed. -#}
{% macro project_count_warning(kind, label, indicator_code, catalogue) -%}
    {{ current_warning(
        rule_code='project_count_behind',
        entity_type='project_category',
        relation=ref('mart_project_targets'),
        where="industry_category <> '合计' and " ~ kind ~ "_warning_level <> 'no_data'",
        entity_code="industry_category || '/" ~ label ~ "'",
        entity_name="industry_category || ' " ~ label ~ "项目'",
        domain="'projects'",
        period_end='as_of_date',
        period_label='as_of_date::text',
        level=kind ~ '_warning_level',
        leader_code="(select responsible_leader from " ~ catalogue ~ " where indicator_code = '" ~ indicator_code ~ "')",
        measure_value=kind ~ '_count',
        measure_unit="'个'",
        target_value=kind ~ '_target',
        deviation_pp=kind ~ '_deviation_pp',
        gap_to_time_progress=kind ~ '_gap_to_time_progress',
        gap_to_target=kind ~ '_gap_to_target',
        source_file='null',
        target_source='target_source',
    ) }}
{%- endmacro %}

{#- The last day of a month: the period_end of a monthly report's row. -#}
{% macro month_end(year_expr, month_expr) -%}
    make_date({{ year_expr }}, {{ month_expr }}, 1) + interval '1 month' - interval '1 day'
{%- endmacro %}
