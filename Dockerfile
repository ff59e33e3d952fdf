# task-gateway: `task-gateway serve` on port 8000, configured by environment variables
# (see README, Configuration). compose.yaml runs it against the vendor sandboxes.
FROM python:3.11-slim

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
# Only what the package needs: .dockerignore keeps tests, benchmarks and .venv out.
COPY pyproject.toml README.md ./
COPY gateway ./gateway
RUN pip install --no-cache-dir . \
    && groupadd --system --gid 10001 gateway \
    && useradd --system --uid 10001 --gid gateway --no-create-home \
        --shell /usr/sbin/nologin gateway

# Numeric, so orchestrators can verify runAsNonRoot without reading /etc/passwd.
USER 10001:10001

# Inside a container the gateway must listen beyond loopback; publish the port with care.
ENV GATEWAY_HOST=0.0.0.0 \
    GATEWAY_PORT=8000
EXPOSE 8000

# The slim image has no curl: Python's own urllib asks /healthz (exit 1 on any failure).
HEALTHCHECK --interval=30s --timeout=5s --start-period=10s --retries=3 \
    CMD ["python", "-c", "import os, urllib.request; urllib.request.urlopen('http://127.0.0.1:' + os.environ.get('GATEWAY_PORT', '8000') + '/healthz', timeout=4)"]

ENTRYPOINT ["task-gateway"]
CMD ["serve"]
