# biomedner serve on the CPU. Build:  docker build -t biomedner-serve .
# Run with a local checkpoint:  docker run -p 8080:8080 -v "$PWD/minilm-uni:/model:ro" biomedner-serve
# or a hub id:                  docker run -p 8080:8080 biomedner-serve --model Ihor/gliner-biomed-bi-small-v1.0
FROM python:3.11-slim

ENV PIP_NO_CACHE_DIR=1 PYTHONUNBUFFERED=1
# the CPU build of torch first, so installing biomedner does not pull the CUDA wheels
RUN pip install torch==2.13.0 --index-url https://download.pytorch.org/whl/cpu

WORKDIR /src
COPY pyproject.toml README.md ./
COPY src ./src
RUN pip install ".[serve]" && rm -rf /src

RUN useradd --create-home biomedner
USER biomedner
WORKDIR /home/biomedner
EXPOSE 8080
# requests reach the container from outside, so listen on all its interfaces
ENTRYPOINT ["biomedner", "serve", "--host", "0.0.0.0", "--port", "8080"]
CMD ["--model", "/model"]
