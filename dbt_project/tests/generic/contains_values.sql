{#- The reverse of accepted_values: fails for every listed value that does not occur in the column.
    Guards rows other models cannot do without (e.g. a warning rule that a mart cross-joins on).
    Usage: columns: [{name: rule_code, data_tests: [{contains_values: {arguments: {values: [a, b]}}}]}] -#}
{% test contains_values(model, column_name, values) %}
with expected as (
    {%- for value in values %}
    select '{{ value | replace("'", "''") }}'::text as expected_value{{ " union all" if not loop.last }}
    {%- endfor %}
)
select expected_value
from expected
where expected_value not in (
    select {{ column_name }}::text from {{ model }} where {{ column_name }} is not null
)
{% endtest %}
