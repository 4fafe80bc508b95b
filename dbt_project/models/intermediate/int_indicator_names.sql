-- Every spelling under which an indicator may arrive: its catalogue name and its aliases.
with catalogue as (select * from {{ ref('indicators') }})

select indicator_code, {{ normalized_name('indicator_name') }} as lookup_name
from catalogue
union
select catalogue.indicator_code, {{ normalized_name('alias.name') }}
from catalogue
cross join lateral unnest(string_to_array(catalogue.aliases, '|')) as alias(name)
where trim(alias.name) <> ''
