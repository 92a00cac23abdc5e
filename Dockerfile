# One image for web (gunicorn), worker (celery) and beat; see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1

WORKDIR /app
RUN useradd --create-home --uid 1000 shop
COPY requirements.txt .
RUN pip install -r requirements.txt
COPY --chown=shop:shop . .
# collectstatic needs settings but no services or secrets.
RUN DEBUG=false python manage.py collectstatic --noinput
USER shop
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", "--access-logfile", "-"]
