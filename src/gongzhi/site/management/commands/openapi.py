"""``gongzhi openapi [--check]``: write the API schema to src/gongzhi/openapi.json, or check it is current."""

from django.core.management.base import BaseCommand, CommandError


class Command(BaseCommand):
    help = "Regenerate the committed OpenAPI schema (src/gongzhi/openapi.json); --check fails when it is stale."

    def add_arguments(self, parser):
        parser.add_argument("--check", action="store_true", help="do not write; exit with an error if the file differs")

    def handle(self, *args, **opts):
        from gongzhi.api import OPENAPI_FILE, openapi_text

        text = openapi_text()
        current = OPENAPI_FILE.read_text(encoding="utf-8") if OPENAPI_FILE.exists() else ""
        if opts["check"]:
            if current != text:
                raise CommandError(f"{OPENAPI_FILE} is out of date: run `gongzhi openapi` and commit the result.")
            self.stdout.write("OpenAPI schema is up to date.")
            return
        if current == text:
            self.stdout.write(f"{OPENAPI_FILE} is already up to date.")
            return
        OPENAPI_FILE.write_text(text, encoding="utf-8")
        self.stdout.write(f"Wrote {OPENAPI_FILE}.")
