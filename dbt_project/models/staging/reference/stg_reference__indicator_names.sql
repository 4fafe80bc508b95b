-- Every spelling under which an indicator may arrive: its catalogue name and its aliases.
{{ name_lookup(ref('indicators'), 'indicator_code', 'indicator_name') }}
