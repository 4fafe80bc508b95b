{#- Fails for every row where the SQL expression is not true (false or NULL).
    Usage: data_tests: [{expression_is_true: {arguments: {expression: "red_threshold <= yellow_threshold"}}}] -#}
{% test expression_is_true(model, expression) %}
select *
from {{ model }}
where not coalesce(({{ expression }}), false)
{% endtest %}
