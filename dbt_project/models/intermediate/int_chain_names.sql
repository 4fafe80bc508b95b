-- Every spelling under which an industry chain may arrive: its name and its aliases.
with chains as (select * from {{ ref('industry_chains') }})

select chain_code, {{ normalized_name('chain_name') }} as lookup_name
from chains
union
select chains.chain_code, {{ normalized_name('alias.name') }}
from chains
cross join lateral unnest(string_to_array(chains.aliases, '|')) as alias(name)
where trim(alias.name) <> ''
