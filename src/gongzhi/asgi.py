"""ASGI entry point: ``uvicorn gongzhi.asgi:application`` (see docs/deploy.md)."""

import os

from django.core.asgi import get_asgi_application

os.environ.setdefault("DJANGO_SETTINGS_MODULE", "gongzhi.settings")
application = get_asgi_application()
