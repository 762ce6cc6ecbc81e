FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY respserver ./respserver
RUN pip install --no-cache-dir .

EXPOSE 6379
CMD ["respserver", "--bind", "0.0.0.0", "--port", "6379"]
