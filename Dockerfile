# Production-like image: gunicorn for web; the same image runs the Celery worker and beat.
FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 APP_ENV=production
WORKDIR /app
COPY requirements.lock .
RUN pip install --no-cache-dir --require-hashes --no-deps -r requirements.lock
COPY . .
RUN useradd --system --home /app fbl && mkdir -p /app/var && chown fbl /app/var
USER fbl
# collectstatic needs settings; a throwaway key is enough for building the static files.
RUN SECRET_KEY=build-only-$(head -c 48 /dev/urandom | base64 | tr -d '/+=\n') \
    ALLOWED_HOSTS=build DATABASE_URL=postgresql://build@localhost/build \
    REDIS_URL=redis://localhost:6379/0 python manage.py collectstatic --noinput
EXPOSE 8000
CMD ["gunicorn", "messenger.wsgi:application", "--bind", "0.0.0.0:8000", "--workers", "3", \
     "--access-logfile", "-"]
