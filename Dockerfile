# One image for every role of the grader: api (the default command), worker, beat, passback relay, flower, migrate.
# The project goes in as a wheel built in the first stage, so the image runs exactly what `pip install` of a
# release would; the source tree never reaches the final stage. python3.11 and bubblewrap come from Debian, as on
# a bare host: the sandbox runs student code under /usr/bin/python3.11 with the venv's numpy staged beside it.
#
#   docker build -t tinytorch-grader:latest .
#
# Behind a TLS-intercepting proxy, pass its CA (PEM text) to the build stage only:
#   docker build --build-arg EXTRA_CA_CERTS="$(cat /usr/local/share/ca-certificates/*.crt)" ...

FROM debian:bookworm-slim AS build
ARG DEBIAN_FRONTEND=noninteractive
ARG EXTRA_CA_CERTS=""
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 python3.11-venv ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && if [ -n "$EXTRA_CA_CERTS" ]; then \
      printf '%s\n' "$EXTRA_CA_CERTS" > /usr/local/share/ca-certificates/build-extra.crt && update-ca-certificates; \
    fi
ENV PIP_CERT=/etc/ssl/certs/ca-certificates.crt \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1
# The pinned dependencies first, from pyproject.toml alone: this layer is rebuilt only when they change.
COPY pyproject.toml /src/pyproject.toml
RUN python3.11 -m venv /opt/grader \
 && python3.11 -c "import tomllib; print('\n'.join(tomllib.load(open('/src/pyproject.toml', 'rb'))['project']['dependencies']))" \
      > /tmp/requirements.txt \
 && /opt/grader/bin/pip install --requirement /tmp/requirements.txt
COPY . /src
RUN /opt/grader/bin/pip wheel --no-deps --wheel-dir /wheels /src \
 && /opt/grader/bin/pip install /wheels/tinytorch_grader-*.whl \
 && /opt/grader/bin/grader --help > /dev/null \
 && find /opt/grader -name __pycache__ -prune -exec rm -rf {} +

FROM debian:bookworm-slim
ARG DEBIAN_FRONTEND=noninteractive
# util-linux brings setpriv, with which a root worker drops to a leased uid before entering bubblewrap.
RUN apt-get update \
 && apt-get install -y --no-install-recommends python3.11 bubblewrap util-linux ca-certificates \
 && rm -rf /var/lib/apt/lists/* \
 && useradd --system --uid 10001 --user-group --home-dir /var/lib/grader --create-home --shell /usr/sbin/nologin grader
COPY --from=build /opt/grader /opt/grader
ENV PATH=/opt/grader/bin:$PATH \
    PYTHONUNBUFFERED=1 \
    GRADER_HOME=/var/lib/grader
WORKDIR /var/lib/grader
# Every role but the worker runs as this unprivileged user; compose runs the worker as root (see its comment).
USER grader
EXPOSE 8000 5555
HEALTHCHECK --interval=15s --timeout=5s --start-period=20s --retries=4 \
  CMD ["python", "-c", "import urllib.request; urllib.request.urlopen('http://127.0.0.1:8000/healthz', timeout=3)"]
CMD ["grader", "serve", "--host", "0.0.0.0", "--port", "8000"]
