# A slim, non-root image that migrates and serves. The migrations install with the
# package (app.migrations), so `ieys migrate` needs nothing but the installed code.
FROM python:3.11-slim AS build
WORKDIR /src
COPY pyproject.toml setup.py README.md ./
COPY app ./app
COPY migrations ./migrations
RUN pip install --no-cache-dir --prefix=/install .

FROM python:3.11-slim
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 \
    IEYS_ENVIRONMENT=production \
    IEYS_DATABASE_URL=sqlite:////data/ieys.db \
    PROMETHEUS_MULTIPROC_DIR=/tmp/ieys-metrics
RUN useradd --system --uid 10001 --home /srv ieys && mkdir -p /data && chown ieys /data
COPY --from=build /install /usr/local
WORKDIR /srv
USER ieys
EXPOSE 8000
HEALTHCHECK CMD python -c "import urllib.request,sys; urllib.request.urlopen('http://127.0.0.1:8000/health/live'); sys.exit(0)"
# Migrate, then serve. Production needs IEYS_JWT_* and IEYS_ENCRYPTION_KEY set:
# the service refuses to start with the development secrets.
# The workers' metrics directory starts empty at every start (prometheus_client).
CMD ["sh", "-c", "rm -rf \"$PROMETHEUS_MULTIPROC_DIR\" && mkdir -p \"$PROMETHEUS_MULTIPROC_DIR\" && ieys migrate && exec uvicorn app.main:app --host 0.0.0.0 --port 8000 --workers ${WEB_CONCURRENCY:-2} --no-access-log"]
