# One image for web (gunicorn), worker (celery) and beat; see docker-compose.yml.
FROM python:3.11-slim-bookworm

ENV PYTHONDONTWRITEBYTECODE=1 \
    PYTHONUNBUFFERED=1 \
    PIP_NO_CACHE_DIR=1 \
    PIP_DISABLE_PIP_VERSION_CHECK=1 \
    MEDIA_ROOT=/app/media

WORKDIR /app
RUN useradd --create-home --uid 1000 shop
COPY requirements.txt .
RUN pip install -r requirements.txt
# The code and the collected static files stay root-owned (read-only for the app user).
COPY . .
# collectstatic needs settings but no services or secrets.
RUN DEBUG=false python manage.py collectstatic --noinput
# What the app writes at run time is the shop user's: uploaded/generated images (the media
# volume is initialised from this directory, ownership included) and var/ (the celery beat
# schedule; the SQLite file when run without DATABASE_URL).
RUN mkdir -p /app/media /app/var && chown shop:shop /app/media /app/var
USER shop
EXPOSE 8000
# config/gunicorn.py: port 8000, WEB_CONCURRENCY workers (3), and gunicorn's own logs as
# redacted JSON like the app's (its access line never carries the query string). Its sync
# workers are never published: docker-compose puts nginx (deploy/nginx.conf) in front.
CMD ["gunicorn", "-c", "config/gunicorn.py", "config.wsgi:application"]
