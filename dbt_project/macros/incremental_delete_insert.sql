{#-
    dbt's delete+insert (the incremental enterprise models), with the new rows' keys ANALYZEd first. dbt
    writes the new rows to a temporary table, which autovacuum never analyzes: without statistics Postgres
    guesses 200 distinct values per column, so it planned the delete of the months replaced
    (`(year, period_month) in (select distinct …)`, 40,000 months guessed) as a scan of every month of the
    mart, 24 million rows and 14-16 s per mart at 24 months, for a new month that deletes nothing; and
    int_enterprise_newest's delete of a million credit codes (200 guessed) as a million index look-ups.
    With the keys' statistics (a sample of 30,000 rows, well under a second) the months are found by the
    mart's index on (year, period_month) and the credit codes are hash-joined.
-#}
{% macro get_incremental_delete_insert_sql(arg_dict) -%}
    {%- set unique_key = arg_dict['unique_key'] -%}
    {%- if unique_key -%}
        {%- set keys = [unique_key] if unique_key is string else unique_key %}
    analyze {{ arg_dict['temp_relation'] }} ({{ keys | join(', ') }});
    {%- endif %}
    {{ dbt.get_incremental_delete_insert_sql(arg_dict) }}
{%- endmacro %}
