{#- bi_reader may use the marts schema. Cosmos runs every seed and model as its own dbt invocation, and
    on-run-end runs after each, so the grant must also work before the first mart has created the schema. -#}
{% macro grant_bi_reader_usage() %}
    do $$
    begin
        if exists (select from pg_namespace where nspname = 'marts') then
            grant usage on schema marts to bi_reader;
        end if;
    end
    $$
{% endmacro %}
