{#- Time progress (时序进度): month m of monthly or quarterly data is m/12; a weekly ledger's as-of date is
    its day of the year over the days in that year. -#}
{% macro time_progress_month(month_expr) -%}
    (({{ month_expr }})::numeric / 12)
{%- endmacro %}

{% macro time_progress_day(date_expr) -%}
    (extract(doy from {{ date_expr }})::numeric
        / ((date_trunc('year', {{ date_expr }}) + interval '1 year')::date - date_trunc('year', {{ date_expr }})::date))
{%- endmacro %}

{#- The level of a measure against a row of the warning_rules seed (aliased `rule_alias`).
    The measure is rounded to 4 decimals first: the level is decided on the figure a leader is shown,
    so a deviation displayed as -10.0000 is never red because of a binary remainder. Missing is no_data,
    never zero. -#}
{% macro warning_level(measure_expr, rule_alias) -%}
    case
        when {{ measure_expr }} is null or {{ rule_alias }}.rule_code is null then 'no_data'
        when {{ rule_alias }}.comparison = 'below' then
            case
                when round({{ measure_expr }}, 4) < {{ rule_alias }}.red_threshold then 'red'
                when round({{ measure_expr }}, 4) < {{ rule_alias }}.yellow_threshold then 'yellow'
                else 'green'
            end
        else
            case
                when {{ measure_expr }} >= {{ rule_alias }}.red_threshold then 'red'
                when {{ measure_expr }} >= {{ rule_alias }}.yellow_threshold then 'yellow'
                else 'green'
            end
    end
{%- endmacro %}

{#- The worse of several rule levels: red > yellow > no_data > green. A null level is a rule that does
    not apply; a project to which no rule applies is green. -#}
{% macro worst_level(level_exprs) -%}
    case greatest(
    {%- for expr in level_exprs %}
        case {{ expr }} when 'red' then 4 when 'yellow' then 3 when 'no_data' then 2 when 'green' then 1 else 0 end{{ "," if not loop.last }}
    {%- endfor %}
    ) when 4 then 'red' when 3 then 'yellow' when 2 then 'no_data' else 'green' end
{%- endmacro %}

{#- Names as people type them: no spaces (half- or full-width), no leading '#'. -#}
{% macro normalized_name(expr) -%}
    regexp_replace(translate({{ expr }}, '#＃', ''), '[[:space:]　]', '', 'g')
{%- endmacro %}

{#- Rows of a raw table whose delivery is the current one (not superseded, not quarantined). -#}
{% macro active_rows(table_name) -%}
    select r.*
    from {{ source('raw', table_name) }} as r
    where r.load_id in (select load_id from {{ source('raw', 'load_audit') }} where status = 'loaded')
{%- endmacro %}

{#- A rule that no longer applies (the project started, the issue was closed) has a null level: its
    warning is over, so it counts as green. no_data (a missing figure) is left out by the caller. -#}
{% macro applicable_or_green(level_expr) -%}
    coalesce({{ level_expr }}, 'green')
{%- endmacro %}

{#- Every spelling under which a catalogue entry may arrive: its name and its '|'-separated aliases,
    normalized as delivered names are. -#}
{% macro name_lookup(catalogue, code_column, name_column) -%}
    select {{ code_column }}, {{ normalized_name(name_column) }} as lookup_name
    from {{ catalogue }}
    union
    select catalogue.{{ code_column }}, {{ normalized_name('alias.name') }}
    from {{ catalogue }} as catalogue
    cross join lateral unnest(string_to_array(catalogue.aliases, '|')) as alias(name)
    where trim(alias.name) <> ''
{%- endmacro %}

{#- The warning_rules seed's row(s) of one rule, for `warning_level(…, <this CTE>)`. rule_fingerprint changes
    with the thresholds: an incremental mart stores it to notice that its rows were classified under others. -#}
{% macro warning_rule(rule_code) -%}
    select
        rule_code,
        target_type,
        comparison,
        yellow_threshold,
        red_threshold,
        md5(row(comparison, yellow_threshold, red_threshold)::text) as rule_fingerprint
    from {{ ref('warning_rules') }}
    where rule_code = '{{ rule_code }}'
{%- endmacro %}

{#- The leaders (role `leader`) by their title as a ledger or report names them (normalized), for a left join on
    leader_title; a title matching none is routed to the dispatch centre D00 by the caller. -#}
{% macro leaders_by_title() -%}
    select
        leader_code,
        {{ normalized_name('title') }} as leader_title
    from {{ ref('leaders') }}
    where role = 'leader'
{%- endmacro %}
