FROM python:3.11-slim

WORKDIR /app
COPY pyproject.toml README.md ./
COPY respserver ./respserver
RUN pip install --no-cache-dir .

EXPOSE 6379
# Clients arrive from the bridge network, so protected mode is off, as in the official redis
# image. With a password: docker run ... respserver respserver --bind 0.0.0.0
# --protected-mode no --requirepass <password>
CMD ["respserver", "--bind", "0.0.0.0", "--port", "6379", "--protected-mode", "no"]
