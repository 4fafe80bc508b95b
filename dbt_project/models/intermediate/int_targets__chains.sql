-- Each year's chain output targets (亿元): the delivered 产业链目标 of the year's target file, else the
-- bootstrap seed `chain_targets`. Chains without an output target are absent.
with
delivered as (
    select
        targets.year,
        names.chain_code,
        targets.output_target_yi as output_target,
        {{ delivered_target_source('targets') }} as target_source,
        'delivered'::text as target_origin,
        targets.source_row
    from {{ ref('stg_fgj__chain_targets') }} as targets
    inner join {{ ref('stg_reference__chain_names') }} as names on targets.chain_name = names.lookup_name
    where targets.output_target_yi is not null
)

{{ targets_in_force(
    'delivered', 'chain_targets', ['year', 'chain_code'], ['output_target'], seed_where='output_target is not null'
) }}
