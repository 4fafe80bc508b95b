{#- Fails for every combination of the given columns that occurs more than once (a compound key).
    NULLs compare equal here, as in GROUP BY: two rows (NULL, 1) are duplicates.
    Usage: data_tests: [{unique_combination: {arguments: {combination_of_columns: [a, b]}}}] -#}
{% test unique_combination(model, combination_of_columns) %}
{%- set columns = combination_of_columns | join(', ') %}
select {{ columns }}, count(*) as copies
from {{ model }}
group by {{ columns }}
having count(*) > 1
{% endtest %}
