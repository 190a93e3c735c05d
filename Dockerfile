# credgraph for production: the server alone, talking to MongoDB at MONGODB_URI.
#   docker build -t credgraph .
#   docker run -p 8000:8000 -e MONGODB_URI=mongodb://db:27017/credgraph -e CREDGRAPH_SECRET=… credgraph
# Without MONGODB_URI it runs the embedded database under /data (for trying it, not for production).
# BASE may be any image with Python 3.11+ and its venv module as `python3`.
ARG BASE=python:3.11-slim
FROM ${BASE}

COPY pyproject.toml README.md LICENSE /src/
COPY graph /src/graph
COPY resolvers /src/resolvers
COPY store /src/store
RUN python3 -m venv /opt/credgraph \
    && /opt/credgraph/bin/pip install --no-cache-dir /src \
    && rm -rf /src \
    && useradd --system --home-dir /data --create-home credgraph

USER credgraph
WORKDIR /data
ENV PATH=/opt/credgraph/bin:$PATH \
    CREDGRAPH_HOST=0.0.0.0 \
    CREDGRAPH_PORT=8000 \
    CREDGRAPH_DATA_DIR=/data \
    CREDGRAPH_LOG_FORMAT=json \
    PYTHONUNBUFFERED=1
VOLUME /data
EXPOSE 8000
HEALTHCHECK --interval=10s --timeout=3s --start-period=30s \
    CMD ["python3", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=2)"]
CMD ["credgraph", "serve"]
