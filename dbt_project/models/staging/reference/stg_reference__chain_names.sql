-- Every spelling under which an industry chain may arrive: its name and its aliases.
{{ name_lookup(ref('industry_chains'), 'chain_code', 'chain_name') }}
