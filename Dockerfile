# The platform's Airflow image: the official Airflow 3.3 image plus this project's package, installed
# with the same constraints as a laptop, so the cluster runs exactly the code the tests ran.
FROM apache/airflow:3.3.2-python3.11
USER root
# The reports' PDF (WeasyPrint) needs pango and a CJK font.
RUN apt-get update && apt-get install -y --no-install-recommends libpango-1.0-0 libpangoft2-1.0-0 fonts-noto-cjk \
 && rm -rf /var/lib/apt/lists/*
COPY --chown=airflow:0 . /opt/econ
USER airflow
RUN pip install --no-cache-dir --constraint /opt/econ/constraints.txt --editable /opt/econ \
 && cd /opt/econ/dbt_project && dbt parse --profiles-dir . --quiet
