{#- Deviation (pp) of an indicator row from a target column, by the indicator's target type
    (spec: growth and level: actual − target; cumulative: actual/target×100 − tp×100;
    stock: (actual − baseline)/(target − baseline)×100 − tp×100). -#}
{% macro indicator_deviation(target_column) -%}
    case target_type
        when 'growth' then actual_value - {{ target_column }}
        when 'level' then actual_value - {{ target_column }}
        when 'cumulative' then actual_value / nullif({{ target_column }}, 0) * 100 - time_progress * 100
        when 'stock' then (actual_value - baseline_value) / nullif({{ target_column }} - baseline_value, 0) * 100
            - time_progress * 100
    end
{%- endmacro %}
