-- Each year's chain output targets (亿元): the delivered 产业链目标 of the year's target file, else the
-- bootstrap seed `chain_targets`. Chains without an output target are absent.
with
files as (select * from {{ ref('stg_fgj__target_files') }}),

delivered as (
    select
        targets.year,
        names.chain_code,
        targets.output_target_yi as output_target,
        targets.source_file || ' 第' || targets.source_row || '行'
        || coalesce('（' || targets.target_document || '）', '') as target_source,
        'delivered'::text as target_origin,
        targets.source_row
    from {{ ref('stg_fgj__chain_targets') }} as targets
    inner join {{ ref('int_chain_names') }} as names on targets.chain_name = names.lookup_name
    where targets.output_target_yi is not null
),

seeded as (
    select
        year,
        chain_code,
        output_target,
        'seeds/chain_targets.csv' || coalesce('（' || target_source || '）', '') as target_source,
        'seed'::text as target_origin,
        0 as source_row
    from {{ ref('chain_targets') }}
    where year not in (select year from files) and output_target is not null
),

ranked as (
    select
        unioned.*,
        row_number() over (partition by unioned.year, unioned.chain_code order by unioned.source_row) as position
    from (
        select * from delivered
        union all
        select * from seeded
    ) as unioned
)

select
    year,
    chain_code,
    output_target,
    target_source,
    target_origin
from ranked
where position = 1
