# cartwheel in a container: the wheel built from this checkout, run by a non-root user.
#
#   docker build -t cartwheel .
#   docker run --rm -v cartwheel-data:/data cartwheel run --scale 0.2
#
# PYTHON_IMAGE can name another base with Python 3.11+ and its venv module (docs/deploy.md).
ARG PYTHON_IMAGE=python:3.11-slim

FROM ${PYTHON_IMAGE} AS build
WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN python3 -m venv /build \
    && /build/bin/pip install --no-cache-dir --quiet "setuptools>=77" \
    && /build/bin/pip wheel --no-cache-dir --quiet --no-deps --no-build-isolation \
        --wheel-dir /dist .

FROM ${PYTHON_IMAGE}
ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PATH=/opt/cartwheel/bin:$PATH \
    CARTWHEEL_DATA_DIR=/data
COPY --from=build /dist /dist
RUN python3 -m venv /opt/cartwheel \
    && /opt/cartwheel/bin/pip install --no-cache-dir --quiet "$(ls /dist/cartwheel-*.whl)[postgres,forecast]" \
    && rm -rf /dist \
    && useradd --create-home --uid 10001 cartwheel \
    && mkdir /data \
    && chown cartwheel /data
USER cartwheel
WORKDIR /home/cartwheel
VOLUME /data
ENTRYPOINT ["cartwheel"]
CMD ["run"]
