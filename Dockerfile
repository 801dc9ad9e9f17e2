# The production image: gunicorn serving Django, the same image runs the Celery worker
# and beat. GOV.UK Frontend comes from npm at build time and is collected as static files.
FROM node:20-bookworm-slim AS frontend
WORKDIR /app
COPY package.json package-lock.json ./
RUN npm ci --no-audit --no-fund

FROM python:3.11-slim-bookworm
ENV PYTHONDONTWRITEBYTECODE=1 PYTHONUNBUFFERED=1 DJANGO_SETTINGS_MODULE=config.settings.production
WORKDIR /app
COPY pyproject.toml README.md ./
COPY config ./config
COPY core ./core
COPY providers ./providers
COPY placements ./placements
COPY panels ./panels
COPY demo ./demo
RUN pip install --no-cache-dir .
COPY . .
COPY --from=frontend /app/node_modules ./node_modules
# collectstatic needs settings to load; this throwaway key never reaches a running container.
RUN SECRET_KEY="collectstatic-only-$(python -c 'import secrets; print(secrets.token_urlsafe(48))')" \
    DATABASE_URL=postgres://build@localhost/build ALLOWED_HOSTS=build \
    SITE_URL=https://build.invalid CELERY_BROKER_URL=redis://build:6379/0 \
    EMAIL_BACKEND=django.core.mail.backends.smtp.EmailBackend \
    python manage.py collectstatic --no-input
RUN useradd --create-home --uid 1000 app
USER app
EXPOSE 8000
CMD ["gunicorn", "config.wsgi:application", "-c", "config/gunicorn.conf.py"]
