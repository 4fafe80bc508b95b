"""Names of the Airflow Assets that chain the DAGs: the delivery DAG announces what a run brought in,
and the report DAGs are scheduled on those announcements (data-aware scheduling, no clocks to align)."""

# A new weekly 重点项目调度台账 was loaded and the marts and alerts were rebuilt from it.
WEEKLY_LEDGER_URI = "econ-monitor://deliveries/project-ledger"
# A new monthly 主要经济指标月报 (统计局's statistics) was loaded and the marts and alerts were rebuilt.
MONTHLY_STATISTICS_URI = "econ-monitor://deliveries/monthly-statistics"
