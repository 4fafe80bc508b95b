{#- Schemas are named for their layer (staging, intermediate, marts, reference), as BI tools and the
    bi_reader grants expect, not prefixed with the target schema. -#}
{% macro generate_schema_name(custom_schema_name, node) -%}
    {{ (custom_schema_name or target.schema) | trim }}
{%- endmacro %}
